"""The index consumer on the embedded source (Rasa's events table), on SQLite and PostgreSQL.

Conversations are stored by Rasa's own SQLTrackerStore; the consumer's passes, its service loop
and its reconciliation are the real code. `index_differences` recomputes every row from the
events to say whether the index matches the trackers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.index import index_conversations
from bot.conversations.privacy import erase_conversation
from bot.conversations.stats import dashboard
from bot.db.reviews import ConversationIndex
from bot.indexer.database import IndexDatabase
from bot.indexer.events_table import (
    EventsTableFeed,
    checkpoint,
    newest_id,
    save_checkpoint,
    tail_pass,
)
from bot.indexer.figures import Figures
from bot.indexer.service import Indexer
from bot.rasa.events import events_table, load_events
from tests.support.conversations import (
    T0,
    assessment_conversation,
    at,
    booked_conversation,
    emergency_conversation,
    follow_up,
    greeting_conversation,
    write_conversation,
    write_three,
)
from tests.support.indexing import index_differences, index_pending, stored_intents

PERIOD = (T0.date() - timedelta(days=1), T0.date() + timedelta(days=5))


def snapshot(session: Session) -> dict:
    """Every index row's columns and intent counts, and the dashboard's figures (then commits)."""
    session.expire_all()
    rows = {
        row.conversation_id: {c.name: getattr(row, c.name) for c in ConversationIndex.__table__.c}
        for row in session.scalars(select(ConversationIndex))
    }
    intents = {c: stored_intents(session, c) for c in rows}
    figures = dashboard(session, *PERIOD)
    session.commit()  # frees SQLite's write lock for Rasa's tracker store
    return {"rows": rows, "intents": intents, "dashboard": figures}


def run_indexer(
    make_session: sessionmaker, until: callable, *, limit: int = 500, timeout: float = 30
) -> Figures:
    """Run the real consumer (service loop, embedded feed) until `until(figures)` holds."""
    figures = Figures(source=EventsTableFeed.name)
    database = IndexDatabase(make_session, figures)
    indexer = Indexer(database, EventsTableFeed(database, limit=limit, poll=0.02), 3600)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(indexer.run(stop))
        deadline = time.monotonic() + timeout
        while not until(figures) and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.02)
        stop.set()
        await task

    asyncio.run(main())
    assert until(figures), figures.health()
    return figures


def test_a_pass_indexes_what_rasa_stored(migrated_url: str, session: Session) -> None:
    write_three(migrated_url)
    done = tail_pass(session)
    session.commit()
    stored = session.scalar(select(events_table.c.id).order_by(events_table.c.id.desc()).limit(1))
    assert (done.events, done.position, done.backlog) == (len(all_ids(session)), stored, 0)
    assert (done.change.written, done.change.current) == (3, 0)
    assert checkpoint(session)[0] == stored
    assert index_differences(session) == []
    assert stored_intents(session, "c-fallback") == {"greet": 1, "nlu_fallback": 1}
    again = tail_pass(session)
    assert (again.events, again.change.written) == (0, 0)


def all_ids(session: Session) -> list[int]:
    """Every stored event id."""
    return list(session.scalars(select(events_table.c.id)))


def test_the_same_events_delivered_twice_count_once(migrated_url: str, session: Session) -> None:
    write_three(migrated_url)
    index_pending(session)
    before = snapshot(session)
    assert before["dashboard"].visitor_messages == 13 + 2 + 2
    save_checkpoint(session, 0, None)  # every event is read again, as after a crash before commit
    session.commit()
    again = index_pending(session)
    assert (again.written, again.current) == (0, 3)
    twice = index_conversations(session, ["c-booked", "c-booked", "c-emergency"])
    session.commit()
    assert (twice.written, twice.current) == (0, 2)
    assert snapshot(session) == before


def test_a_new_event_rewrites_only_its_conversation(migrated_url: str, session: Session) -> None:
    write_three(migrated_url)
    index_pending(session)
    before = snapshot(session)
    write_conversation(
        migrated_url,
        "c-emergency",
        follow_up(start=at(day=1, hour=1), text="thanks, calling 911 now", intent="thank"),
    )
    change = index_pending(session)
    assert (change.written, change.current) == (1, 0)
    after = snapshot(session)
    assert after["rows"]["c-booked"] == before["rows"]["c-booked"]
    assert after["rows"]["c-emergency"]["user_messages"] == 3
    assert after["intents"]["c-emergency"]["thank"] == 1
    assert after["dashboard"].visitor_messages == before["dashboard"].visitor_messages + 1
    assert index_differences(session) == []


def test_the_tail_catches_up_pass_by_pass(migrated_url: str, session: Session) -> None:
    write_three(migrated_url)
    total = newest_id(session)
    positions = []
    while (done := tail_pass(session, limit=7)).events:
        session.commit()
        positions.append(done.position)
    assert positions == sorted(positions) and positions[-1] == total and len(positions) > 3
    assert index_differences(session) == []


def test_events_written_while_the_consumer_was_down_are_applied_when_it_starts(
    migrated_url: str, make_session: sessionmaker, session: Session
) -> None:
    write_three(migrated_url)
    index_pending(session)
    # The consumer is down: more conversations and follow-ups arrive.
    for number in range(4):
        write_conversation(
            migrated_url, f"c-late-{number}", assessment_conversation(start=at(day=2, hour=number))
        )
    write_conversation(migrated_url, "c-booked", follow_up(start=at(day=3), text="see you then"))
    total = newest_id(session)
    assert len(index_differences(session)) == 6  # four new conversations; c-booked row, intents
    figures = run_indexer(make_session, lambda f: f.backlog == 0 and f.events, limit=7)
    assert index_differences(session) == []
    assert checkpoint(session)[0] == total
    assert figures.failed == 0 and figures.health()["ok"]


def test_reconciliation_reaches_an_event_the_feed_never_delivered(
    migrated_url: str, make_session: sessionmaker, session: Session
) -> None:
    write_three(migrated_url)
    index_pending(session)
    write_conversation(migrated_url, "c-fallback", follow_up(start=at(day=2), text="hello?"))
    newest = newest_id(session)
    save_checkpoint(
        session,
        newest,
        session.scalar(select(events_table.c.timestamp).where(events_table.c.id == newest)),
    )
    session.commit()  # as if this event's notice had been lost
    assert tail_pass(session).events == 0
    session.commit()
    assert [p.split(":")[0] for p in index_differences(session)] == ["c-fallback"] * 2
    figures = Figures(source=EventsTableFeed.name)
    fixed = asyncio.run(IndexDatabase(make_session, figures).reconcile(asyncio.Event()))
    assert fixed == 1 and figures.reconciled == 1
    assert index_differences(session) == []


def test_ids_reused_after_an_erasure_are_not_missed(migrated_url: str, session: Session) -> None:
    write_conversation(migrated_url, "c-first", greeting_conversation())
    write_conversation(migrated_url, "c-long", booked_conversation(start=at(day=1)))
    index_pending(session)
    erase_conversation(session, "c-long", actor="test")
    session.commit()
    write_conversation(migrated_url, "c-new", greeting_conversation(start=at(day=2)))
    # SQLite hands out c-long's ids again (below the checkpoint); PostgreSQL's sequence does not.
    index_pending(session)
    assert index_differences(session) == []
    assert set(session.scalars(select(ConversationIndex.conversation_id))) == {"c-first", "c-new"}


def test_a_conversation_that_cannot_be_read_does_not_hold_up_the_others(
    migrated_url: str, make_session: sessionmaker, session: Session
) -> None:
    write_three(migrated_url)
    session.execute(
        insert(events_table).values(
            sender_id="c-broken", type_name="user", timestamp=T0.timestamp(), data="{not json"
        )
    )
    session.commit()
    write_conversation(migrated_url, "c-after", greeting_conversation(start=at(day=3)))
    total = newest_id(session)
    session.commit()
    figures = run_indexer(make_session, lambda f: f.events and f.backlog == 0)
    assert figures.failed == 2  # by the start-up reconciliation, then by the feed
    indexed = set(session.scalars(select(ConversationIndex.conversation_id)))
    assert indexed == {"c-booked", "c-emergency", "c-fallback", "c-after"}
    assert checkpoint(session)[0] == total


def test_the_health_check_fails_while_the_database_is_unreachable() -> None:
    from bot.indexer.service import index_database

    database = index_database("postgresql://postgres@127.0.0.1:1/nothing", EventsTableFeed.name)
    health = Indexer(database, EventsTableFeed(database)).health()
    assert (health["ok"], health["database_ok"], health["source_ok"]) == (False, False, False)


def test_pages_of_a_running_system_see_new_events_within_a_poll(
    migrated_url: str, make_session: sessionmaker, session: Session
) -> None:
    """The consumer runs in the background; a conversation stored meanwhile reaches the index."""
    figures = Figures(source=EventsTableFeed.name)
    database = IndexDatabase(make_session, figures)
    indexer = Indexer(database, EventsTableFeed(database, poll=0.02), 3600)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(indexer.run(stop),))
    thread.start()
    try:
        write_conversation(migrated_url, "c-live", emergency_conversation(start=at(day=1)))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and index_differences(session):
            time.sleep(0.05)
        assert index_differences(session) == []
        assert len(load_events(session, "c-live")) > 0
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()
    assert not thread.is_alive()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_status_and_rebuild_commands(
    migrated_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import json

    from bot.cli import main
    from bot.core.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    try:
        write_three(migrated_url)
        assert main(["index", "status"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert (status["indexed"], status["behind"], status["without_events"]) == (0, 3, 0)
        assert main(["index", "rebuild"]) == 0
        assert "index rebuilt: 3 conversations" in capsys.readouterr().out
        assert index_differences(session) == []
        assert main(["index", "status"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert (status["indexed"], status["behind"]) == (3, 0)
    finally:
        get_settings.cache_clear()


def test_revision_0005_marks_older_rows_for_reindexing_and_reverts_alone(
    database_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from bot.conversations.index import refresh_index
    from bot.db.migrate import alembic_config, upgrade
    from bot.db.session import make_engine

    upgrade(database_url, "0004")
    write_conversation(database_url, "c-old", greeting_conversation())
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            newest = newest_id(session)
            session.execute(
                insert(ConversationIndex.__table__).values(
                    conversation_id="c-old",
                    channel="rest",
                    started_at=T0,
                    last_at=T0,
                    last_event_id=newest,
                    user_messages=1,
                    outcome="none",
                    emergency=False,
                    fallback=False,
                    low_confidence=False,
                    human_requested=False,
                    search_text="hi",
                )
            )
            session.commit()
        upgrade(database_url)
        with Session(engine) as session:
            assert session.get(ConversationIndex, "c-old").last_event_id == 0
            assert refresh_index(session) == 1  # reconciliation re-reads it, intents included
            session.commit()
            assert index_differences(session) == []
        command.downgrade(alembic_config(database_url), "0004")
        tables = set(inspect(engine).get_table_names())
        assert "conversation_index" in tables
        assert not tables & {"conversation_intents", "index_checkpoints"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_rabbitmq_is_retried_and_reported_unhealthy(
    migrated_url: str, make_session: sessionmaker
) -> None:
    from bot.indexer.rabbitmq import RabbitFeed

    figures = Figures(source=RabbitFeed.name)
    database = IndexDatabase(make_session, figures)
    feed = RabbitFeed("amqp://guest:guest@127.0.0.1:1/%2F", "q", database)
    indexer = Indexer(database, feed)

    async def main() -> dict:
        stop = asyncio.Event()
        task = asyncio.create_task(indexer.run(stop))
        await asyncio.sleep(2.5)  # a first attempt and at least one retry
        health = indexer.health()
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        return health

    health = asyncio.run(main())
    assert (health["ok"], health["source_ok"], health["database_ok"]) == (False, False, True)
    assert feed.connection is None
