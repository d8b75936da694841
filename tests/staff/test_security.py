"""Sign-in, lockout, CSRF, idle and absolute session limits, logout, headers and cookies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bot.core.settings import Settings
from bot.db.reviews import ConversationTag
from bot.db.staff import AuditEntry, StaffSession, StaffUser
from bot.staff.app import create_app
from bot.staff.csrf import LOGIN_COOKIE
from tests.staff.conftest import Clock, Staff, form_token, log_in
from tests.staff.seed import PASSWORD

GENERIC = "Unknown username or wrong password, or the account is locked."


def tags_of(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(ConversationTag.tag)))


def actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_login_then_pages_then_logout(client: TestClient, db: Session) -> None:
    response = log_in(client, "navigator", PASSWORD, next_path="/leads")
    assert response.status_code == 303
    assert response.headers["location"] == "/leads"
    cookie = response.headers["set-cookie"]
    assert "pilotrock_staff=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # staff_cookie_secure=False in these tests
    page = client.get("/leads")
    assert page.status_code == 200 and "Navigator Person" in page.text
    token = form_token(page.text)
    assert "login" in actions(db)

    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/login?logged_out=1"
    assert client.get("/leads").headers["location"].startswith("/login")
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0
    assert actions(db)[-1] == "logout"
    assert "You are signed out." in client.get("/login?logged_out=1").text


def test_the_old_cookie_is_useless_after_logout(
    signed_in: Callable[[str], Staff], client: TestClient
) -> None:
    staff = signed_in("reviewer")
    token = staff.client.cookies["pilotrock_staff"]
    assert staff.post("/logout").status_code == 303
    client.cookies.set("pilotrock_staff", token)
    response = client.get("/conversations")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?expired=1")


def test_wrong_password_gives_the_generic_message(client: TestClient, db: Session) -> None:
    response = log_in(client, "navigator", "not-the-password")
    assert response.status_code == 401
    assert GENERIC in response.text
    unknown = log_in(client, "nobody-here", PASSWORD)
    assert unknown.status_code == 401
    assert unknown.text.count(GENERIC) == 1
    assert actions(db)[-2:] == ["login_failed", "login_failed"]


def test_lockout_through_the_login_form(client: TestClient, db: Session, clock: Clock) -> None:
    for _ in range(5):
        assert log_in(client, "reviewer", "wrong-password-123").status_code == 401
    locked = log_in(client, "reviewer", PASSWORD)
    assert locked.status_code == 401
    assert GENERIC in locked.text  # the same message: nothing says the account is locked
    db.expire_all()
    user = db.scalars(select(StaffUser).where(StaffUser.username == "reviewer")).one()
    assert user.locked_until is not None
    clock.advance(minutes=16)  # the lockout lasts 15 minutes
    assert log_in(client, "reviewer", PASSWORD).status_code == 303


def test_login_form_without_its_csrf_cookie_is_refused(
    settings: Settings, clock: Clock, db: Session
) -> None:
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as browser:
        token = form_token(browser.get("/login").text)
        browser.cookies.delete(LOGIN_COOKIE)
        response = browser.post(
            "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD}
        )
        assert response.status_code == 403
        forged = browser.post(
            "/login", data={"csrf_token": "x" * 43, "username": "admin", "password": PASSWORD}
        )
        assert forged.status_code == 403
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_login_cookie_is_signed(client: TestClient) -> None:
    page = client.get("/login")
    token = form_token(page.text)
    client.cookies.clear()
    client.cookies.set(LOGIN_COOKIE, token)  # unsigned: the token itself
    response = client.post(
        "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_post_without_the_session_csrf_token_is_refused(
    signed_in: Callable[[str], Staff], db: Session, token: str | None
) -> None:
    staff = signed_in("admin")
    form = {"tag": "forged"}
    if token is not None:
        form["csrf_token"] = token
    before = actions(db)
    response = staff.post("/conversations/conv-booked/tags", form, csrf=False)
    assert response.status_code == 403
    assert "security token" in response.text
    assert tags_of(db) == []
    assert actions(db) == before
    good = staff.post("/conversations/conv-booked/tags", {"tag": "real"})
    assert good.status_code == 303
    assert tags_of(db) == ["real"]


def test_another_sessions_token_is_refused(signed_in: Callable[[str], Staff], db: Session) -> None:
    first, second = signed_in("admin"), signed_in("navigator")
    response = second.post(
        "/conversations/conv-booked/tags", {"tag": "forged", "csrf_token": first.csrf}
    )
    assert response.status_code == 403
    assert tags_of(db) == []


def test_idle_logoff_after_15_minutes(
    signed_in: Callable[[str], Staff], clock: Clock, db: Session
) -> None:
    staff = signed_in("navigator")
    clock.advance(minutes=14)
    assert staff.get("/leads").status_code == 200  # activity keeps the session alive
    clock.advance(minutes=14)
    assert staff.get("/leads").status_code == 200
    clock.advance(minutes=15, seconds=1)
    response = staff.get("/leads")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?expired=1&next=%2Fleads"
    assert 'pilotrock_staff=""' in response.headers["set-cookie"]  # the cookie is dropped
    page = staff.client.get(response.headers["location"])
    assert "Your session has ended" in page.text and "15 minutes without activity" in page.text
    assert db.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_absolute_session_limit(signed_in: Callable[[str], Staff], clock: Clock) -> None:
    staff = signed_in("reviewer")
    for _ in range(47):  # active every 10 minutes: 7 h 50 min
        clock.advance(minutes=10)
        assert staff.get("/dashboard").status_code == 200
    clock.advance(minutes=10)  # 8 hours after sign-in
    response = staff.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?expired=1")


def test_security_headers_on_every_response(
    signed_in: Callable[[str], Staff], client: TestClient
) -> None:
    staff = signed_in("admin")
    for response in (
        staff.get("/conversations"),
        client.get("/login"),
        client.get("/static/staff.css"),
        client.get("/no-such-page"),
    ):
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "img-src 'self' data:" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert staff.get("/conversations").headers["cache-control"] == "no-store"
    assert staff.get("/leads.csv").headers["cache-control"] == "no-store"


def test_secure_cookies_use_the_host_prefix(db_url: str, clock: Clock) -> None:
    settings = Settings(
        database_url=db_url,
        environment="production",
        staff_secret_key="s" * 40,
        rasa_api_token="t" * 40,
        widget_session_secret="w" * 40,
    )
    assert settings.cookies_secure
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        login_page = browser.get("/login")
        assert "Secure" in login_page.headers["set-cookie"]
        response = browser.post(
            "/login",
            data={
                "csrf_token": form_token(login_page.text),
                "username": "admin",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 303
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if "pilotrock_staff=" in c
        )
        assert session_cookie.startswith("__Host-pilotrock_staff=")
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        assert browser.get("/conversations").status_code == 200


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_login_never_redirects_off_site(client: TestClient, next_path: str) -> None:
    response = log_in(client, "admin", PASSWORD, next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_deactivated_account_loses_its_session(
    signed_in: Callable[[str], Staff],
) -> None:
    reviewer, admin = signed_in("reviewer"), signed_in("admin")
    assert reviewer.get("/conversations").status_code == 200
    assert admin.post("/users/reviewer/deactivate").status_code == 303
    assert reviewer.get("/conversations").headers["location"].startswith("/login")
