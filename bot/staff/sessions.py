"""Server-side staff sessions: random tokens stored as hashes, idle and absolute time limits."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.core.settings import get_settings
from bot.db.models import utcnow
from bot.db.staff import StaffSession, StaffUser

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """The sha256 hex digest under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit() -> timedelta:
    """How long a session may go unused."""
    return timedelta(minutes=get_settings().staff_idle_minutes)


def start_session(
    session: Session, user: StaffUser, *, now: datetime | None = None
) -> tuple[str, StaffSession]:
    """A new session for `user`: (the token for the cookie, the stored row)."""
    now = now or utcnow()
    purge_expired(session, now=now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = StaffSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=get_settings().staff_session_hours),
    )
    session.add(row)
    session.flush()
    return token, row


def is_expired(row: StaffSession, now: datetime) -> bool:
    """Whether the session has been idle too long or reached its absolute limit."""
    return now - row.last_seen_at > idle_limit() or now >= row.expires_at


def load_session(
    session: Session, token: str | None, *, now: datetime | None = None, touch: bool = True
) -> StaffSession | None:
    """The live session for `token`, marked as used now unless `touch` is False (a background
    poll); None (and the row deleted) if it ended."""
    if not token or not isinstance(token, str):
        return None
    now = now or utcnow()
    row = session.scalars(
        select(StaffSession).where(StaffSession.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        return None
    if is_expired(row, now) or not row.user.active:
        session.delete(row)
        session.flush()
        return None
    if touch:
        row.last_seen_at = now
        session.flush()
    return row


def end_session(session: Session, token: str | None) -> None:
    """Log out: delete the session for `token` if there is one."""
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(token)))


def end_user_sessions(session: Session, user_id: int) -> int:
    """Delete every session of one account; how many there were."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return result.rowcount


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete every session past its idle or absolute limit; how many there were."""
    now = now or utcnow()
    result = session.execute(
        delete(StaffSession)
        .where(or_(StaffSession.last_seen_at < now - idle_limit(), StaffSession.expires_at <= now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
