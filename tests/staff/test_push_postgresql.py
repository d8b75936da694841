"""The live feed on PostgreSQL (the production profile's tracker store): late commits, delivery.

Uses tests/db's fresh-database fixture (skipped without PostgreSQL, a failure when CI is set).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.settings import Settings
from bot.db.session import make_engine
from bot.rasa.events import ensure_events_table, events_table
from bot.staff.app import create_app
from bot.staff.push.tail import EventTail
from tests.db.conftest import database_url, pg_admin  # noqa: F401 (fixtures)
from tests.staff.conftest import LIVE_ID, SESSION_COOKIE, Clock, start_staff_session
from tests.staff.rasa_stand_in import visitor_says, waiting_visitor
from tests.staff.seed import START, build
from tests.support.event_streams import EventReader, serve

POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def pg_engine(database_url: str) -> Iterator[Engine]:  # noqa: F811 (the imported fixture)
    """An engine on the fresh database, with Rasa's events table."""
    engine = make_engine(database_url)
    with Session(engine, future=True) as session:
        ensure_events_table(session)
        session.commit()
    yield engine
    engine.dispose()


def row(text: str) -> dict[str, object]:
    """An events row of conversation `c` (the id comes from the sequence)."""
    return {"sender_id": "c", "type_name": "user", "timestamp": time.time(), "data": text}


@POSTGRESQL
def test_a_row_committed_after_a_newer_one_is_still_read(pg_engine: Engine) -> None:
    tail = EventTail()
    with Session(pg_engine) as reader:
        tail.start(reader)
    with pg_engine.connect() as slow, pg_engine.connect() as fast:
        slow_tx = slow.begin()
        slow.execute(insert(events_table), [row("slow")])  # takes the lower id, commits later
        with fast.begin():
            fast.execute(insert(events_table), [row("fast")])
        with Session(pg_engine) as reader:
            first = tail.read(reader, now=time.monotonic())
        assert [r.data for r in first] == ["fast"] and len(tail.gaps) == 1
        slow_tx.commit()
    with Session(pg_engine) as reader:
        late = tail.read(reader, now=time.monotonic())
    assert [r.data for r in late] == ["slow"] and tail.gaps == {}
    assert late[0].id < first[0].id


@POSTGRESQL
def test_a_visitor_message_reaches_an_open_page_on_postgresql(
    database_url: str,  # noqa: F811 (the imported fixture)
) -> None:
    seeded = build(database_url)
    clock = Clock(START)
    waiting_visitor(seeded.url, LIVE_ID, clock.now)
    settings = Settings(database_url=seeded.url, environment="test", staff_cookie_secure=False)
    token, _ = start_staff_session(seeded.url, "reviewer", clock.now)
    with (
        serve(create_app(settings, clock=clock), "staff app") as url,
        httpx.Client(base_url=url, cookies={SESSION_COOKIE: token}) as reviewer,
        EventReader(reviewer, f"/conversations/{LIVE_ID}/live/stream?after=0") as stream,
    ):
        assert stream.next("ready").data["state"]["key"] == "waiting"
        written = time.monotonic()
        visitor_says(seeded.url, LIVE_ID, "call me on 303-555-0100", clock.now)
        frame = stream.next("messages", timeout=2.0)
        assert frame.at - written < 2.0
        assert [item["text"] for item in frame.data["items"]] == ["call me on •••"]
