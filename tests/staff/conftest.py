"""The staff app against a seeded, migrated SQLite database, with a clock the tests move.

The seeded database (tests/staff/seed.py: one account per role and a spare, real Rasa
conversations written by Rasa's own tracker store, a lead with a booking, a callback request, an
outbox message, a navigator with an override and time off) is built once per session and copied
for each test, so every test starts from the same state and may change it. Live-takeover tests
reach Rasa through the stand-in of tests/staff/rasa_stand_in.py (`rasa`, `takeover`, `live_chat`).

Starlette's TestClient returns a response only once it has ended, so its apps end live streams
after `TEST_STREAM_SECONDS` (a GET reads the stream's first frames whole); the tests that follow
a stream as it flows serve the app with uvicorn (tests/staff/served.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.core.settings import Settings
from bot.db.session import dispose_engines, make_engine
from bot.db.staff import StaffUser
from bot.staff.app import create_app
from bot.staff.sessions import start_session
from tests.staff.rasa_stand_in import RasaStandIn, waiting_visitor
from tests.staff.seed import START, Seeded, build

SESSION_COOKIE = "pilotrock_staff"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
TEST_STREAM_SECONDS = 0.3


class Clock:
    """The app's clock: stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The seeded database file, built once."""
    return build(f"sqlite:///{tmp_path_factory.mktemp('staff-template') / 'staff.db'}")


@pytest.fixture
def seeded(seeded_template: Seeded, tmp_path: Path) -> Iterator[Seeded]:
    """A private copy of the seeded database for one test."""
    target = tmp_path / "staff.db"
    shutil.copyfile(make_url(seeded_template.url).database, target)
    yield replace(seeded_template, url=f"sqlite:///{target}")
    dispose_engines()


@pytest.fixture
def db_url(seeded: Seeded) -> str:
    """The URL of this test's database."""
    return seeded.url


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    """A session to check what the app wrote (pysqlite's own deferred transactions, so a read
    never holds the write lock the app's BEGIN IMMEDIATE needs)."""
    engine = create_engine(db_url, future=True)
    with Session(engine, future=True, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """The app's clock, starting at START."""
    return Clock(START)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Test settings: this database, no Secure flag (the test client speaks plain http)."""
    return Settings(database_url=db_url, environment="test", staff_cookie_secure=False)


def staff_app(settings: Settings, clock: Clock) -> Starlette:
    """The staff app as a TestClient drives it (live streams end after TEST_STREAM_SECONDS)."""
    app = create_app(settings, clock=clock)
    app.state.stream_seconds = TEST_STREAM_SECONDS
    return app


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """A browser without a session (redirects are not followed)."""
    with TestClient(staff_app(settings, clock), follow_redirects=False) as test_client:
        yield test_client


@dataclass
class Staff:
    """A signed-in browser: its client (a TestClient, or httpx against a served app) and CSRF."""

    client: httpx.Client
    csrf: str
    username: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=form)


def start_staff_session(db_url: str, username: str, now: datetime) -> tuple[str, str]:
    """A new server-side session of `username` (no argon2): its cookie token and CSRF token."""
    engine = make_engine(db_url)
    try:
        with Session(engine, future=True) as session:
            user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
            token, row = start_session(session, user, now=now)
            csrf = row.csrf_token
            session.commit()
    finally:
        engine.dispose()
    return token, csrf


@pytest.fixture
def signed_in(settings: Settings, clock: Clock, db_url: str) -> Iterator[Callable[[str], Staff]]:
    """Sign a staff member in by starting their server-side session directly (no argon2)."""
    clients: list[TestClient] = []

    def sign_in(username: str) -> Staff:
        token, csrf = start_staff_session(db_url, username, clock())
        test_client = TestClient(staff_app(settings, clock), follow_redirects=False)
        test_client.cookies.set(SESSION_COOKIE, token)
        clients.append(test_client)
        return Staff(test_client, csrf, username)

    yield sign_in
    for test_client in clients:
        test_client.app.state.live_feed.stop()
        test_client.close()


def form_token(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str, next_path: str = "") -> httpx.Response:
    """Sign in through the login form (a real argon2 check); returns the POST's response."""
    page = client.get("/login")
    assert page.status_code == 200
    data = {"csrf_token": form_token(page.text), "username": username, "password": password}
    if next_path:
        data["next"] = next_path
    return client.post("/login", data=data)


LIVE_ID = "conv-live"  # the `live_chat` fixture's conversation


@pytest.fixture
def rasa(db_url: str) -> RasaStandIn:
    """Rasa's HTTP API as live takeover uses it, on this test's database."""
    return RasaStandIn(db_url)


@pytest.fixture
def live_chat(db_url: str, clock: Clock) -> str:
    """A website visitor who asked for a person two minutes ago: a waiting request; its id."""
    return waiting_visitor(db_url, LIVE_ID, clock.now)


@pytest.fixture
def takeover(signed_in: Callable[[str], Staff], rasa: RasaStandIn) -> Callable[[str], Staff]:
    """Sign a staff member in to an app whose takeover speaks to the Rasa stand-in."""

    def sign_in(username: str) -> Staff:
        staff = signed_in(username)
        staff.client.app.state.open_conversation = rasa.open
        return staff

    return sign_in
