"""Staff accounts: create and change them, and log in with a lockout after repeated failures."""

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.settings import get_settings
from bot.db import audit
from bot.db.models import utcnow
from bot.db.staff import ROLES, USERNAME_PATTERN, StaffUser
from bot.staff.passwords import (
    check_password_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from bot.staff.sessions import end_user_sessions

USERNAME = re.compile(USERNAME_PATTERN)
DISPLAY_NAME_MAX = 120
LOGIN_FAILED_MESSAGE = "Unknown username or wrong password, or the account is locked."


class LoginFailed(Exception):  # noqa: N818  (the name the staff app relies on)
    """A refused login; the message is the same whatever the reason."""

    def __init__(self, user_id: int | None = None, *, locked: bool = False) -> None:
        """Keep the account id (None if unknown) and whether it is locked, for the audit log."""
        super().__init__(LOGIN_FAILED_MESSAGE)
        self.user_id = user_id
        self.locked = locked


def normalize_username(username: str) -> str:
    """The stored form of a username: trimmed and lowercase."""
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    """The normalized username, or ValueError if it breaks the pattern."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "usernames are 2-64 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_display_name(display_name: str) -> str:
    """The trimmed display name, or ValueError if empty, too long or holding control characters."""
    name = (display_name or "").strip()
    if not name or len(name) > DISPLAY_NAME_MAX:
        raise ValueError(f"the display name must have 1-{DISPLAY_NAME_MAX} characters")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ValueError("the display name must not contain control characters")
    return name


def check_role(role: str) -> str:
    """`role` if it is known, else ValueError listing the roles."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def find_user(session: Session, username: str) -> StaffUser | None:
    """The account called `username`, or None."""
    name = normalize_username(username)
    return session.scalars(select(StaffUser).where(StaffUser.username == name)).one_or_none()


def get_user(session: Session, username: str) -> StaffUser:
    """The account called `username`, or ValueError."""
    user = find_user(session, username)
    if user is None:
        raise ValueError(f"no staff user named {normalize_username(username)!r}")
    return user


def record_change(
    session: Session, user: StaffUser, actor: str | None, action: str, **details: object
) -> None:
    """Audit an account change by `actor` (None: not audited, for set-up code and tests)."""
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action=action,
            target_type="staff_user",
            target_id=user.id,
            details=details or None,
        )


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    actor: str | None = None,
) -> StaffUser:
    """A new active account; ValueError on bad input or a username already taken."""
    name = check_username(username)
    display = check_display_name(display_name)
    check_role(role)
    check_password_policy(password, name)
    if find_user(session, name) is not None:
        raise ValueError(f"a staff user named {name!r} already exists")
    now = utcnow()
    user = StaffUser(
        username=name,
        display_name=display,
        role=role,
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    record_change(session, user, actor, "user_created", role=role)
    return user


def authenticate(
    session: Session, username: str, password: str, *, now: datetime | None = None
) -> StaffUser:
    """The account if the login succeeds; else LoginFailed (failure counts are committed)."""
    now = now or utcnow()
    name = normalize_username(username)
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == name).with_for_update()
    ).one_or_none()
    if user is None:
        verify_password(dummy_hash(), password or "")
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        verify_password(dummy_hash(), password or "")
        raise LoginFailed(user.id, locked=True)
    if user.locked_until is not None:
        user.locked_until, user.failed_logins = None, 0
    if not verify_password(user.password_hash, password or ""):
        raise register_failure(session, user, now)
    if not user.active:
        raise LoginFailed(user.id)
    user.failed_logins, user.last_login_at = 0, now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return user


def register_failure(session: Session, user: StaffUser, now: datetime) -> LoginFailed:
    """Count a wrong password, lock the account at the limit and commit that; the error to raise."""
    settings = get_settings()
    user.failed_logins += 1
    locked = user.failed_logins >= settings.staff_max_failed_logins
    if locked:
        user.locked_until = now + timedelta(minutes=settings.staff_lockout_minutes)
    user_id = user.id
    session.commit()
    return LoginFailed(user_id, locked=locked)


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    """Whether the account is locked out at `now`."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def set_password(
    session: Session, username: str, password: str, actor: str | None = None
) -> StaffUser:
    """Give the account a new password, unlock it and end its sessions."""
    user = get_user(session, username)
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    end_user_sessions(session, user.id)
    record_change(session, user, actor, "password_changed")
    return user


def set_role(session: Session, username: str, role: str, actor: str | None = None) -> StaffUser:
    """Change the account's role (the last active admin keeps theirs); audited if it changed."""
    user = get_user(session, username)
    check_role(role)
    previous = user.role
    if previous == "admin" and role != "admin":
        refuse_last_admin(session, user)
    user.role = role
    session.flush()
    if role != previous:
        record_change(session, user, actor, "role_changed", previous=previous, role=role)
    return user


def deactivate(session: Session, username: str, actor: str | None = None) -> StaffUser:
    """Switch the account off and end its sessions (the last active admin stays on)."""
    user = get_user(session, username)
    if user.role == "admin":
        refuse_last_admin(session, user)
    user.active = False
    session.flush()
    end_user_sessions(session, user.id)
    record_change(session, user, actor, "user_deactivated")
    return user


def activate(session: Session, username: str, actor: str | None = None) -> StaffUser:
    """Switch a deactivated account back on."""
    user = get_user(session, username)
    user.active = True
    session.flush()
    record_change(session, user, actor, "user_activated")
    return user


def refuse_last_admin(session: Session, user: StaffUser) -> None:
    """ValueError if `user` is the only active admin."""
    others = session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id)
    )
    if user.active and not others:
        raise ValueError(f"{user.username!r} is the last active admin: make another admin first")


def list_users(session: Session) -> list[StaffUser]:
    """Every account, by username."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
