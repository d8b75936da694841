"""Commands for the database and navigator availability."""

import argparse
from datetime import date, datetime, timezone
from pathlib import Path

from bot.booking import availability
from bot.booking.scheduling import format_slot
from bot.db.migrate import upgrade
from bot.db.session import session_scope


def db_upgrade(_: argparse.Namespace) -> int:
    """Apply the database migrations (idempotent)."""
    upgrade()
    print("database is up to date")
    return 0


def availability_seed(args: argparse.Namespace) -> int:
    """Load the default schedule if no navigator exists yet."""
    with session_scope() as session:
        count = availability.seed_if_empty(session, args.file)
    print(f"loaded {count} navigators" if count else "navigators already set up; nothing loaded")
    return 0


def availability_load(args: argparse.Namespace) -> int:
    """Create or update navigators and their weekly hours from a YAML file."""
    with session_scope() as session:
        count = availability.load_file(session, args.file)
    print(f"loaded {count} navigators from {args.file}")
    return 0


def availability_show(args: argparse.Namespace) -> int:
    """Print each navigator's rules and the next free slots in a visitor's zone."""
    now = datetime.now(timezone.utc)
    with session_scope() as session:
        for rules in availability.schedules(session):
            days = sorted(rules.weekly)
            hours = "; ".join(
                f"{availability.DAYS[d]} "
                + ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in rules.weekly[d])
                for d in days
            )
            print(f"navigator {rules.navigator_id} ({rules.timezone}): {hours}")
            for day, windows in sorted(rules.overrides.items()):
                print(
                    f"  {day}: "
                    + (", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in windows) or "closed")
                )
            for start, end in rules.time_off:
                print(f"  off {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
        slots = availability.offer(session, now, count=args.count)
    print(f"next {len(slots)} free slots ({args.tz}):")
    for slot in slots:
        print(f"  {format_slot(slot, args.tz)}  (navigator {slot.navigator_id})")
    return 0


def availability_time_off(args: argparse.Namespace) -> int:
    """Block a navigator between two ISO times (with offset, or UTC)."""
    start, end = (aware(datetime.fromisoformat(value)) for value in (args.start, args.end))
    with session_scope() as session:
        availability.add_time_off(session, args.email, start, end, args.reason)
    print(f"time off added for {args.email}")
    return 0


def availability_override(args: argparse.Namespace) -> int:
    """Set one date's hours for a navigator ('closed' or '10:00-14:00')."""
    with session_scope() as session:
        availability.set_override(session, args.email, date.fromisoformat(args.date), args.hours)
    print(f"{args.date} set to {args.hours} for {args.email}")
    return 0


def windows_text(windows: list) -> str:
    """'09:00-12:00,13:00-17:00'."""
    return ",".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in windows)


def aware(moment: datetime) -> datetime:
    """Treat a naive time as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `db` and `availability` commands."""
    db = sub.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help=db_upgrade.__doc__).set_defaults(func=db_upgrade)
    avail = sub.add_parser("availability", help="navigator availability")
    act = avail.add_subparsers(dest="action", required=True)
    for name, func in (("seed", availability_seed), ("load", availability_load)):
        cmd = act.add_parser(name, help=func.__doc__)
        cmd.add_argument("file", nargs="?", type=Path, default=availability.DEFAULT_FILE)
        cmd.set_defaults(func=func)
    show = act.add_parser("show", help=availability_show.__doc__)
    show.add_argument("--tz", default="America/New_York", help="visitor time zone")
    show.add_argument("--count", type=int, default=5)
    show.set_defaults(func=availability_show)
    off = act.add_parser("time-off", help=availability_time_off.__doc__)
    for name in ("email", "start", "end"):
        off.add_argument(name)
    off.add_argument("--reason")
    off.set_defaults(func=availability_time_off)
    override = act.add_parser("override", help=availability_override.__doc__)
    for name in ("email", "date", "hours"):
        override.add_argument(name)
    override.set_defaults(func=availability_override)
