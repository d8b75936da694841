"""The staff app on PostgreSQL: sign-in, the pages of every area, an annotation and the export.

Uses tests/db's fresh-database fixture (skipped without PostgreSQL, a failure when CI is set).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from starlette.testclient import TestClient

from bot.core.settings import Settings
from bot.db.reviews import Annotation
from bot.db.staff import AuditEntry
from bot.staff.app import create_app
from tests.db.conftest import database_url, pg_admin  # noqa: F401 (fixtures)
from tests.staff.conftest import Clock, form_token, log_in
from tests.staff.seed import EMAIL, PASSWORD, START, Seeded, build

PAGES = (
    "/conversations",
    "/conversations/conv-booked",
    "/leads",
    "/bookings",
    "/callbacks",
    "/outbox",
    "/availability",
    "/dashboard",
    "/users",
    "/audit",
)


@pytest.fixture
def pg_seeded(database_url: str) -> Seeded:  # noqa: F811 (the imported fixture)
    """A seeded database (the test below asks for PostgreSQL only)."""
    return build(database_url)


@pytest.fixture
def admin(pg_seeded: Seeded) -> Iterator[TestClient]:
    """An admin signed in through the login form."""
    settings = Settings(database_url=pg_seeded.url, environment="test", staff_cookie_secure=False)
    app = create_app(settings, clock=Clock(START))
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, "admin", PASSWORD).status_code == 303
        yield client


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_area_works_on_postgresql(admin: TestClient, pg_seeded: Seeded) -> None:
    for path in PAGES:
        assert admin.get(path).status_code == 200, path
    page = admin.get("/conversations/conv-booked")
    response = admin.post(
        "/conversations/conv-booked/annotate",
        data={
            "csrf_token": form_token(page.text),
            "event_id": str(pg_seeded.greet_event_id),
            "intent": "bot_challenge",
        },
    )
    assert response.status_code == 303
    export = admin.get("/leads.csv")
    assert EMAIL in export.text
    engine = create_engine(pg_seeded.url, future=True)
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Annotation)) == 1
            actions = set(connection.scalars(select(AuditEntry.action)))
    finally:
        engine.dispose()
    assert {"login", "view_transcript", "annotate", "export_leads"} <= actions
