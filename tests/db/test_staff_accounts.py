"""Staff accounts: creation rules, password hashing, login, lockout and deactivation."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bot.core.settings import get_settings
from bot.db.models import utcnow
from bot.db.staff import StaffUser
from bot.staff import accounts
from bot.staff.accounts import LoginFailed, authenticate, create_user
from bot.staff.passwords import check_password_policy, needs_rehash, verify_password

PASSWORD = "Correct horse 42"


def make_user(session: Session, username: str = "ada", role: str = "navigator") -> StaffUser:
    """A committed account with PASSWORD."""
    user = create_user(
        session, username=username, display_name="Ada Park", role=role, password=PASSWORD
    )
    session.commit()
    return user


def fail_logins(session: Session, times: int, now=None) -> list[LoginFailed]:
    """Try a wrong password `times` times; the errors raised."""
    errors = []
    for _ in range(times):
        with pytest.raises(LoginFailed) as caught:
            authenticate(session, "ada", "wrong password 1", now=now)
        errors.append(caught.value)
    return errors


def test_create_user_stores_an_argon2_hash(session: Session) -> None:
    user = make_user(session)
    stored = session.get(StaffUser, user.id)
    assert stored.username == "ada" and stored.role == "navigator" and stored.active
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert verify_password(stored.password_hash, PASSWORD)
    assert not verify_password(stored.password_hash, PASSWORD.lower())
    assert not needs_rehash(stored.password_hash)


def test_username_is_normalised_and_duplicates_are_refused(session: Session) -> None:
    make_user(session, username="  Ada ")
    with pytest.raises(ValueError, match="already exists"):
        create_user(
            session, username="ADA", display_name="Other", role="reviewer", password=PASSWORD
        )
    assert [user.username for user in accounts.list_users(session)] == ["ada"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "superuser", "unknown role"),
        ("username", "a b", "usernames are"),
        ("username", "", "usernames are"),
        ("display_name", "  ", "display name"),
        ("display_name", "Ada\x00", "control characters"),
    ],
)
def test_bad_input_is_refused(session: Session, field: str, value: str, message: str) -> None:
    fields = {"username": "ada", "display_name": "Ada", "role": "admin", "password": PASSWORD}
    with pytest.raises(ValueError, match=message):
        create_user(session, **{**fields, field: value})
    assert accounts.list_users(session) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short1!", "at least 12"),
        ("alllowercaseletters", "mix at least two"),
        ("123456789012", "mix at least two"),
        ("xx-ada-rocks-42", "contain the username"),
        ("abababab1212", "different characters"),
        (" Correct horse 42", "space"),
        ("A1" * 200, "at most"),
    ],
)
def test_weak_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_password_policy(password, "ada")


def test_create_user_refuses_a_weak_password(session: Session) -> None:
    with pytest.raises(ValueError, match="contain the username"):
        create_user(
            session, username="ada", display_name="Ada", role="admin", password="Ada-Lovelace-1"
        )
    assert accounts.list_users(session) == []


def test_password_policy_accepts_a_passphrase() -> None:
    check_password_policy("purple tractor sings loudly", "ada")
    check_password_policy(PASSWORD, "ada")


def test_authenticate_ok_records_the_login(session: Session) -> None:
    make_user(session)
    now = utcnow()
    user = authenticate(session, " ADA ", PASSWORD, now=now)
    assert user.username == "ada" and user.last_login_at == now and user.failed_logins == 0


def test_wrong_password_and_unknown_user_fail_alike(session: Session) -> None:
    make_user(session)
    with pytest.raises(LoginFailed) as wrong:
        authenticate(session, "ada", "not the password 9")
    with pytest.raises(LoginFailed) as unknown:
        authenticate(session, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    assert wrong.value.user_id is not None and unknown.value.user_id is None


def test_failed_logins_survive_the_callers_rollback(session: Session) -> None:
    user = make_user(session)
    fail_logins(session, 2)
    session.rollback()
    session.expire_all()
    assert session.get(StaffUser, user.id).failed_logins == 2


def test_lockout_after_max_failures_then_unlock_after_the_window(session: Session) -> None:
    settings = get_settings()
    make_user(session)
    now = utcnow()
    errors = fail_logins(session, settings.staff_max_failed_logins, now=now)
    assert [error.locked for error in errors][-2:] == [False, True]
    locked_at = now + timedelta(minutes=settings.staff_lockout_minutes) - timedelta(seconds=1)
    with pytest.raises(LoginFailed) as caught:
        authenticate(session, "ada", PASSWORD, now=locked_at)
    assert caught.value.locked
    assert str(caught.value) == str(errors[0])
    after = now + timedelta(minutes=settings.staff_lockout_minutes, seconds=1)
    user = authenticate(session, "ada", PASSWORD, now=after)
    assert user.failed_logins == 0 and user.locked_until is None


def test_success_before_the_limit_resets_the_count(session: Session) -> None:
    make_user(session)
    limit = get_settings().staff_max_failed_logins
    fail_logins(session, limit - 1)
    authenticate(session, "ada", PASSWORD)
    session.commit()
    errors = fail_logins(session, limit - 1)
    assert not any(error.locked for error in errors)


def test_inactive_user_cannot_log_in(session: Session) -> None:
    make_user(session, "boss", role="admin")
    make_user(session)
    accounts.deactivate(session, "ada")
    session.commit()
    with pytest.raises(LoginFailed):
        authenticate(session, "ada", PASSWORD)
    accounts.activate(session, "ada")
    assert authenticate(session, "ada", PASSWORD).active


def test_set_password_replaces_the_hash_and_unlocks(session: Session) -> None:
    make_user(session)
    fail_logins(session, get_settings().staff_max_failed_logins)
    accounts.set_password(session, "ada", "Another good one 7")
    session.commit()
    with pytest.raises(LoginFailed):
        authenticate(session, "ada", PASSWORD)
    assert authenticate(session, "ada", "Another good one 7").username == "ada"
    with pytest.raises(ValueError, match="at least 12"):
        accounts.set_password(session, "ada", "short")


def test_set_role_and_the_last_admin_is_kept(session: Session) -> None:
    make_user(session, "boss", role="admin")
    make_user(session)
    with pytest.raises(ValueError, match="last active admin"):
        accounts.set_role(session, "boss", "reviewer")
    with pytest.raises(ValueError, match="last active admin"):
        accounts.deactivate(session, "boss")
    assert accounts.set_role(session, "ada", "admin").role == "admin"
    assert accounts.set_role(session, "boss", "reviewer").role == "reviewer"
    with pytest.raises(ValueError, match="unknown role"):
        accounts.set_role(session, "ada", "root")
    with pytest.raises(ValueError, match="no staff user"):
        accounts.set_role(session, "ghost", "admin")
