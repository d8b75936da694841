"""Navigator availability: load it from a file, read it from the database, offer free slots."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.booking.scheduling import (
    NavigatorSchedule,
    Policy,
    Slot,
    free_slots,
    next_on_duty,
    on_duty,
)
from bot.core.paths import DATA
from bot.db.models import DateOverride, Navigator, TimeOff, WeeklyHours
from bot.db.repository import bookings_between

DEFAULT_FILE = DATA / "availability.yml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICY = Policy()


def parse_window(text: str) -> tuple[time, time]:
    """'09:00-12:30' -> (09:00, 12:30); ValueError with the bad text otherwise."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ValueError(f"hours must look like 09:00-12:30, not {text!r}") from error
    if start >= end:
        raise ValueError(f"hours must end after they start: {text!r}")
    return start, end


def load_file(session: Session, path: Path = DEFAULT_FILE) -> int:
    """Create or update the navigators of a YAML file (matched by email); their weekly hours are replaced."""  # noqa: E501
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("navigators") or []
    for entry in entries:
        navigator = session.scalars(
            select(Navigator).where(Navigator.email == entry["email"])
        ).one_or_none() or Navigator(email=entry["email"])
        navigator.name, navigator.timezone = entry["name"], entry["timezone"]
        navigator.active = entry.get("active", True)
        session.add(navigator)
        session.flush()
        set_weekly_hours(session, navigator, entry.get("weekly") or {})
    return len(entries)


def set_weekly_hours(session: Session, navigator: Navigator, weekly: dict[str, list[str]]) -> None:
    """Replace a navigator's weekly hours ({'mon': ['09:00-12:00'], ...})."""
    if unknown := set(weekly) - set(DAYS):
        raise ValueError(f"unknown days {sorted(unknown)}: use {', '.join(DAYS)}")
    session.execute(delete(WeeklyHours).where(WeeklyHours.navigator_id == navigator.id))
    for day, windows in weekly.items():
        for window in windows:
            start, end = parse_window(window)
            session.add(
                WeeklyHours(
                    navigator_id=navigator.id,
                    weekday=DAYS.index(day),
                    start_time=start,
                    end_time=end,
                )
            )


def seed_if_empty(session: Session, path: Path = DEFAULT_FILE) -> int:
    """Load the default schedule when no navigator exists yet; how many were loaded."""
    if session.scalar(select(func.count()).select_from(Navigator)):
        return 0
    return load_file(session, path)


def schedules(session: Session) -> list[NavigatorSchedule]:
    """The availability rules of every active navigator."""
    result = []
    for nav in session.scalars(select(Navigator).where(Navigator.active.is_(True))):
        weekly: dict[int, list[tuple[time, time]]] = {}
        for hours in nav.weekly_hours:
            weekly.setdefault(hours.weekday, []).append((hours.start_time, hours.end_time))
        overrides: dict[date, list[tuple[time, time]]] = {}
        for override in nav.date_overrides:
            windows = overrides.setdefault(override.date, [])
            if override.start_time is not None and override.end_time is not None:
                windows.append((override.start_time, override.end_time))
        time_off = [(off.starts_at, off.ends_at) for off in nav.time_off]
        result.append(NavigatorSchedule(nav.id, nav.timezone, weekly, overrides, time_off))
    return result


def booked_slots(session: Session, now: datetime, moving: str | None = None) -> list[Slot]:
    """Confirmed bookings from yesterday to the end of the horizon, but for one being moved."""
    window_end = now + POLICY.horizon + timedelta(days=1)
    return [
        Slot(b.navigator_id, b.starts_at, b.ends_at)
        for b in bookings_between(session, now - timedelta(days=1), window_end)
        if moving is None or b.reference != moving
    ]


def offer(
    session: Session,
    now: datetime,
    after: datetime | None = None,
    count: int = 5,
    moving: str | None = None,
) -> list[Slot]:
    """The next free intro-call slots across all active navigators.

    `moving`: the reference of a booking being moved; its time and buffer do not block the
    offer (booking the new time cancels it in the same transaction).
    """
    booked = booked_slots(session, now, moving)
    return free_slots(schedules(session), booked, now, after=after, count=count, policy=POLICY)


def free_navigators(session: Session, start: datetime, now: datetime) -> list[int]:
    """Ids of the navigators free for a call starting exactly at `start`."""
    booked = booked_slots(session, now)
    free = []
    for rules in schedules(session):
        first = free_slots([rules], booked, now, after=start, count=1, policy=POLICY)
        if first and first[0].start == start:
            free.append(rules.navigator_id)
    return free


def free_at(session: Session, start: datetime, now: datetime) -> Slot | None:
    """A free slot starting exactly at `start` (any navigator), or None if it has gone."""
    candidates = offer(session, now, after=start, count=1)
    return candidates[0] if candidates and candidates[0].start == start else None


def navigator_by_email(session: Session, email: str) -> Navigator:
    """The navigator with this email, or ValueError."""
    navigator = session.scalars(select(Navigator).where(Navigator.email == email)).one_or_none()
    if navigator is None:
        raise ValueError(f"no navigator with email {email!r}")
    return navigator


def add_time_off(
    session: Session, email: str, start: datetime, end: datetime, reason: str | None = None
) -> TimeOff:
    """Block a navigator from `start` to `end` (aware datetimes)."""
    if end <= start:
        raise ValueError("time off must end after it starts")
    off = TimeOff(
        navigator_id=navigator_by_email(session, email).id,
        starts_at=start,
        ends_at=end,
        reason=reason,
    )
    session.add(off)
    return off


def set_override(session: Session, email: str, day: date, hours: str) -> None:
    """Replace one local date's hours ('closed' or '10:00-14:00,15:00-16:00')."""
    navigator = navigator_by_email(session, email)
    session.execute(
        delete(DateOverride).where(
            DateOverride.navigator_id == navigator.id, DateOverride.date == day
        )
    )
    if hours.strip().lower() == "closed":
        session.add(DateOverride(navigator_id=navigator.id, date=day))
        return
    for window in hours.split(","):
        start, end = parse_window(window)
        session.add(
            DateOverride(navigator_id=navigator.id, date=day, start_time=start, end_time=end)
        )


def navigators_on_duty(session: Session, now: datetime) -> list[Navigator]:
    """Active navigators inside their working hours (and not on time off) at `now`."""
    ids = [schedule.navigator_id for schedule in schedules(session) if on_duty(schedule, now)]
    if not ids:
        return []
    return list(
        session.scalars(select(Navigator).where(Navigator.id.in_(ids)).order_by(Navigator.id))
    )


def team_back_at(session: Session, now: datetime) -> datetime | None:
    """When the first navigator is next on duty (now if one is), within two weeks."""
    starts = [next_on_duty(schedule, now) for schedule in schedules(session)]
    known = [start for start in starts if start is not None]
    return min(known) if known else None
