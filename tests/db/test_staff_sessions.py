"""Staff sessions: hashed tokens, idle logoff, the absolute limit, logout and deactivation."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.settings import get_settings
from bot.db.models import utcnow
from bot.db.staff import StaffSession, StaffUser
from bot.staff import accounts
from bot.staff.sessions import end_session, end_user_sessions, load_session, start_session


@pytest.fixture
def user(session: Session) -> StaffUser:
    """A committed navigator account."""
    user = accounts.create_user(
        session, username="ada", display_name="Ada", role="navigator", password="Good pass 1234"
    )
    session.commit()
    return user


def stored(session: Session) -> int:
    """How many session rows exist."""
    return session.scalar(select(func.count()).select_from(StaffSession))


def test_only_the_tokens_hash_is_stored(session: Session, user: StaffUser) -> None:
    token, row = start_session(session, user)
    session.commit()
    tokens = session.execute(select(StaffSession.token_hash, StaffSession.csrf_token)).all()
    assert tokens == [(hashlib.sha256(token.encode()).hexdigest(), row.csrf_token)]
    assert len(token) >= 40 and token not in tokens[0]
    assert row.csrf_token != token and len(row.csrf_token) >= 40
    other, _ = start_session(session, user)
    assert other != token


def test_load_session_finds_the_user_and_refuses_unknown_tokens(
    session: Session, user: StaffUser
) -> None:
    token, _ = start_session(session, user)
    session.commit()
    assert load_session(session, token).user.username == "ada"
    assert load_session(session, token + "x") is None
    assert load_session(session, "") is None
    assert load_session(session, None) is None


def test_idle_logoff(session: Session, user: StaffUser) -> None:
    idle = timedelta(minutes=get_settings().staff_idle_minutes)
    start = utcnow()
    token, _ = start_session(session, user, now=start)
    untouched, _ = start_session(session, user, now=start)
    session.commit()
    assert load_session(session, token, now=start + idle) is not None
    assert load_session(session, untouched, now=start + idle + timedelta(seconds=1)) is None
    assert load_session(session, token, now=start + 2 * idle + timedelta(seconds=1)) is None
    session.commit()
    assert stored(session) == 0


def test_use_extends_idle_time_but_not_the_absolute_limit(
    session: Session, user: StaffUser
) -> None:
    settings = get_settings()
    step = timedelta(minutes=settings.staff_idle_minutes - 1)
    start = utcnow()
    token, row = start_session(session, user, now=start)
    assert row.expires_at == start + timedelta(hours=settings.staff_session_hours)
    now = start
    while now + step < row.expires_at:
        now += step
        assert load_session(session, token, now=now) is not None, f"ended early at {now}"
    session.commit()
    assert session.scalar(select(StaffSession.last_seen_at)) == now
    assert load_session(session, token, now=row.expires_at) is None
    session.commit()
    assert stored(session) == 0


def test_end_session_logs_out_that_browser_only(session: Session, user: StaffUser) -> None:
    first, _ = start_session(session, user)
    second, _ = start_session(session, user)
    end_session(session, first)
    session.commit()
    assert load_session(session, first) is None
    assert load_session(session, second) is not None
    end_session(session, None)


def test_end_user_sessions_counts(session: Session, user: StaffUser) -> None:
    for _ in range(3):
        start_session(session, user)
    assert end_user_sessions(session, user.id) == 3
    assert stored(session) == 0


def test_deactivate_ends_sessions(session: Session, user: StaffUser) -> None:
    token, _ = start_session(session, user)
    session.commit()
    accounts.create_user(
        session, username="boss", display_name="Boss", role="admin", password="Good pass 1234"
    )
    accounts.deactivate(session, "ada")
    session.commit()
    assert stored(session) == 0
    assert load_session(session, token) is None


def test_a_deactivated_users_surviving_session_is_refused(
    session: Session, user: StaffUser
) -> None:
    token, _ = start_session(session, user)
    user.active = False
    session.commit()
    assert load_session(session, token) is None
    session.commit()
    assert stored(session) == 0


def test_starting_a_session_purges_expired_ones(session: Session, user: StaffUser) -> None:
    start = utcnow()
    start_session(session, user, now=start)
    start_session(session, user, now=start + timedelta(hours=1))
    session.commit()
    assert stored(session) == 1
