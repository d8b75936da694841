"""Commands for staff accounts and the audit log; every account change is audited."""

import argparse
import getpass
import json
import sys

from bot.db import audit
from bot.db.session import session_scope
from bot.db.staff import ROLES
from bot.staff import accounts

PASSWORD_HELP = (
    "read the password as one line from standard input (the default when it is not a terminal); "
    "on a terminal the password is asked twice without echo. It is never a command-line argument."
)


def cli_actor() -> str:
    """'cli:<operating-system user>', the audit actor of these commands."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:64]


def read_password(args: argparse.Namespace) -> str:
    """The new password: typed twice on a terminal, else one line from standard input."""
    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValueError("no password on standard input")
        return password
    password = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise ValueError("the two passwords differ")
    return password


def create_user(args: argparse.Namespace) -> int:
    """Create a named staff account (the password is read, never passed as an argument)."""
    password = read_password(args)
    with session_scope() as session:
        user = accounts.create_user(
            session,
            username=args.username,
            display_name=args.name,
            role=args.role,
            password=password,
            actor=cli_actor(),
        )
    print(f"created {user.role} {user.username!r}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    """Set a new password for an account, unlock it and log it out everywhere."""
    password = read_password(args)
    with session_scope() as session:
        user = accounts.set_password(session, args.username, password, actor=cli_actor())
    print(f"password changed for {user.username!r}; its sessions were ended")
    return 0


def set_role(args: argparse.Namespace) -> int:
    """Give an account another role."""
    with session_scope() as session:
        user = accounts.set_role(session, args.username, args.role, actor=cli_actor())
    print(f"{user.username!r} is now {user.role}")
    return 0


def deactivate(args: argparse.Namespace) -> int:
    """Switch an account off and end its sessions."""
    with session_scope() as session:
        user = accounts.deactivate(session, args.username, actor=cli_actor())
    print(f"{user.username!r} is deactivated")
    return 0


def activate(args: argparse.Namespace) -> int:
    """Switch a deactivated account back on."""
    with session_scope() as session:
        user = accounts.activate(session, args.username, actor=cli_actor())
    print(f"{user.username!r} is active")
    return 0


def list_users(_: argparse.Namespace) -> int:
    """Print every account with its role and state."""
    with session_scope() as session:
        users = accounts.list_users(session)
        print(f"{'username':<24} {'role':<10} {'state':<8} {'last login':<17} name")
        for user in users:
            state = "inactive" if not user.active else "active"
            state = "locked" if accounts.is_locked(user) else state
            last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
            print(f"{user.username:<24} {user.role:<10} {state:<8} {last:<17} {user.display_name}")
    print(f"{len(users)} staff users")
    return 0


def audit_verify(args: argparse.Namespace) -> int:
    """Check the audit log's hash chain; exit 1 and list the problems if it was tampered with."""
    anchor = audit.parse_anchor(args.anchor) if args.anchor else None
    with session_scope() as session:
        report = audit.verify(session, anchor=anchor)
    if not report.ok:
        print(f"audit log DAMAGED: {len(report.problems)} problems in {report.checked} entries")
        for problem in report.problems:
            print(f"  {problem}")
        return 1
    print(f"audit log intact: {report.checked} entries")
    if report.head:
        print(f"head: {report.head[0]}:{report.head[1]} (keep it; check later with --anchor)")
    return 0


def audit_tail(args: argparse.Namespace) -> int:
    """Print the newest audit entries, oldest first."""
    if not 1 <= args.last <= 10_000:
        raise ValueError("--last must be between 1 and 10000")
    with session_scope() as session:
        for entry in audit.tail(session, args.last):
            target = entry.target_type + (f":{entry.target_id}" if entry.target_id else "")
            details = json.dumps(entry.details, sort_keys=True) if entry.details else ""
            print(
                f"{entry.seq:>6} {audit.timestamp(entry.at)} {entry.actor} {entry.action} "
                f"{target} {details}".rstrip()
            )
    return 0


def add_password_option(parser: argparse.ArgumentParser) -> None:
    """The --password-stdin flag."""
    parser.add_argument("--password-stdin", action="store_true", help=PASSWORD_HELP)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the `staff` and `audit` commands."""
    staff = sub.add_parser("staff", help="staff accounts")
    act = staff.add_subparsers(dest="action", required=True)
    create = act.add_parser("create-user", help=create_user.__doc__)
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", required=True, choices=ROLES)
    add_password_option(create)
    create.set_defaults(func=create_user)
    password = act.add_parser("set-password", help=set_password.__doc__)
    password.add_argument("--username", required=True)
    add_password_option(password)
    password.set_defaults(func=set_password)
    role = act.add_parser("set-role", help=set_role.__doc__)
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=ROLES)
    role.set_defaults(func=set_role)
    for name, func in (("deactivate", deactivate), ("activate", activate)):
        cmd = act.add_parser(name, help=func.__doc__)
        cmd.add_argument("--username", required=True)
        cmd.set_defaults(func=func)
    act.add_parser("list", help=list_users.__doc__).set_defaults(func=list_users)
    log = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", required=True)
    verify = log.add_parser("verify", help=audit_verify.__doc__)
    verify.add_argument("--anchor", help="SEQ:HASH of an entry noted earlier (see module docs)")
    verify.set_defaults(func=audit_verify)
    show = log.add_parser("tail", help=audit_tail.__doc__)
    show.add_argument("--last", type=int, default=20, help="how many entries (default 20)")
    show.set_defaults(func=audit_tail)
