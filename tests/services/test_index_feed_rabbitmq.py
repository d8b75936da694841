"""The index consumer on the production profile: Rasa's pika broker, real RabbitMQ and PostgreSQL.

Rasa's SQLTrackerStore saves conversations and publishes their events through the broker class
`endpoints.cluster.yml` names (Rasa's PikaEventBroker, configured from the settings). The real
consumer reads the queue into a PostgreSQL database of its own. Each test uses its own exchange
and queue, so nothing reaches the queues of a running cluster. RabbitMQ outages are made with a
TCP proxy between the clients and the server (the shared server itself is never restarted).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from uuid import uuid4

import aio_pika
import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import read_endpoint_config
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.core.paths import ROOT
from bot.core.settings import get_settings
from bot.db.migrate import upgrade
from bot.db.reviews import ConversationIndex
from bot.indexer.rabbitmq import RabbitFeed, announced, read_notice
from bot.indexer.service import Indexer, index_database
from bot.rasa.broker import ProjectPikaEventBroker
from bot.rasa.events import events_table
from bot.rasa.runtime.tracker_store import connection_fields
from tests.support.conversations import (
    assessment_conversation,
    at,
    booked_conversation,
    domain,
    emergency_conversation,
    fallback_conversation,
    follow_up,
    greeting_conversation,
)
from tests.support.indexing import index_differences, stored_intents
from tests.support.proxy import TcpProxy
from tests.support.services import require_postgres, require_rabbitmq

WAIT = 30.0  # seconds any wait in these tests may take before it is a failure
CONVERSATIONS = {
    "c-booked": lambda: booked_conversation(channel="socketio"),
    "c-emergency": lambda: emergency_conversation(start=at(day=1)),
    "c-fallback": lambda: fallback_conversation(channel="telegram"),
}


@dataclass
class Place:
    """This test's RabbitMQ names and PostgreSQL database."""

    amqp_url: str
    exchange: str
    queue: str
    database_url: str


@pytest.fixture
def place(monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    """A migrated PostgreSQL database and an exchange and queue of this test's own."""
    amqp_url = require_rabbitmq()
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT")
    name = f"pilotrock_test_{uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(require_postgres()).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    tag = uuid4().hex[:10]
    made = Place(amqp_url, f"test-exchange-{tag}", f"test-events-{tag}", url)
    monkeypatch.setenv("RABBITMQ_URL", amqp_url)
    monkeypatch.setenv("EVENT_QUEUE", made.queue)
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:1/webhook")  # endpoints file
    get_settings.cache_clear()
    try:
        yield made
    finally:
        get_settings.cache_clear()
        asyncio.run(delete_exchange_and_queue(made))
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def within(scenario: Awaitable[None], timeout: float = 4 * WAIT) -> None:
    """Run a test's scenario in a new event loop; a hang is a failure after `timeout` s."""
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def delete_exchange_and_queue(place: Place) -> None:
    """Remove this test's queue and exchange from RabbitMQ."""
    connection = await aio_pika.connect(place.amqp_url, timeout=WAIT)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(place.queue)
        await channel.exchange_delete(place.exchange)


def via(proxy: TcpProxy, url: str) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parsed = make_url(url.replace("amqp://", "postgresql://", 1))  # a URL parser that keeps %2F
    rebuilt = parsed.set(host=proxy.host, port=proxy.port).render_as_string(hide_password=False)
    return rebuilt.replace("postgresql://", "amqp://", 1)


async def rasa_broker(place: Place) -> EventBroker:
    """The event broker Rasa builds from endpoints.cluster.yml (on this test's exchange)."""
    config = read_endpoint_config(str(ROOT / "endpoints.cluster.yml"), "event_broker")
    assert config is not None and config.type == "bot.rasa.broker.ProjectPikaEventBroker"
    config.kwargs["exchange_name"] = place.exchange
    config.kwargs["retry_delay_in_seconds"] = 0.5
    broker = await EventBroker.create(config)
    assert isinstance(broker, ProjectPikaEventBroker)
    return broker


def rasa_store(place: Place, broker: EventBroker | None) -> SQLTrackerStore:
    """Rasa's SQL tracker store on the test database, streaming to `broker` (None: no broker)."""
    return SQLTrackerStore(domain(), event_broker=broker, **connection_fields(place.database_url))


async def rasa_saves(store: SQLTrackerStore, sender_id: str, events: list[Event]) -> None:
    """Append events to a conversation the way Rasa's processor does: retrieve, update, save."""
    tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, domain().slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


async def saves_unannounced(place: Place, sender_id: str, events: list[Event]) -> None:
    """Rasa saves events with a tracker store of no broker: nothing is published."""
    store = rasa_store(place, None)
    try:
        await rasa_saves(store, sender_id, events)
    finally:
        store.engine.dispose()


async def published(broker: EventBroker, timeout: float = WAIT) -> None:
    """Wait until the broker's publish tasks have finished."""
    deadline = time.monotonic() + timeout
    while broker._background_tasks:
        pending = list(broker._background_tasks)
        await asyncio.wait(pending, timeout=max(deadline - time.monotonic(), 0))
        assert time.monotonic() < deadline, "publishing timed out"


async def delivered(feed: RabbitFeed, count: int, timeout: float = WAIT) -> list:
    """The next `count` messages the feed receives (not yet handled or acked)."""
    deadline = time.monotonic() + timeout
    messages: list = []
    while len(messages) < count:
        assert time.monotonic() < deadline, f"{len(messages)} of {count} messages delivered"
        messages += await feed.next_batch()
    return messages


def consumer(
    place: Place, *, url: str | None = None, reconcile: float = 3600.0, grace: float = 30.0
) -> Indexer:
    """The real consumer on this test's queue and database."""
    database = index_database(place.database_url, RabbitFeed.name)
    feed = RabbitFeed(
        url or place.amqp_url, place.queue, database, exchange=place.exchange, grace=grace
    )
    return Indexer(database, feed, reconcile)


@asynccontextmanager
async def running(indexer: Indexer) -> AsyncIterator[Indexer]:
    """The consumer running in this event loop until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(indexer.run(stop))
    try:
        await eventually(lambda: indexer.figures.source_ok or task.done())
        yield indexer
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=WAIT)


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = WAIT) -> None:
    """Wait until `check()` holds (it may be a coroutine function)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def differences(place: Place) -> list[str]:
    """index_differences on a short session of its own."""
    engine = create_engine(place.database_url, future=True)
    try:
        with Session(engine) as session:
            return index_differences(session)
    finally:
        engine.dispose()


async def index_matches(place: Place) -> bool:
    """Whether the index matches the trackers now (checked off the event loop)."""
    return await asyncio.to_thread(differences, place) == []


def snapshot(place: Place) -> dict:
    """Every index row and its intent counts."""
    engine = create_engine(place.database_url, future=True)
    try:
        with Session(engine) as session:
            rows = {
                row.conversation_id: {
                    c.name: getattr(row, c.name) for c in ConversationIndex.__table__.c
                }
                for row in session.scalars(select(ConversationIndex))
            }
            return {c: (row, stored_intents(session, c)) for c, row in rows.items()}
    finally:
        engine.dispose()


def stored_bodies(place: Place) -> list[dict]:
    """Every stored event as Rasa's broker publishes it: sender_id plus the event's dict."""
    engine = create_engine(place.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(events_table.c.sender_id, events_table.c.data).order_by(events_table.c.id)
            )
            return [{"sender_id": sender_id, **json.loads(data)} for sender_id, data in rows]
    finally:
        engine.dispose()


async def save_all(place: Place, broker: EventBroker | None) -> None:
    """Rasa saves the three conversations (publishing their events through `broker`)."""
    store = rasa_store(place, broker)
    try:
        for conversation_id, events in CONVERSATIONS.items():
            await rasa_saves(store, conversation_id, events())
        if broker is not None:
            await published(broker)
    finally:
        store.engine.dispose()


def test_events_rasa_publishes_reach_the_index_once_each(place: Place) -> None:
    async def scenario() -> None:
        broker = await rasa_broker(place)
        async with running(consumer(place)) as indexer:
            await save_all(place, broker)
            total = len(stored_bodies(place))
            await eventually(lambda: indexer.figures.events >= total)
            assert await index_matches(place)
            before, written = snapshot(place), indexer.figures.written
            # Every event delivered a second time, as after a lost publisher confirm.
            for body in stored_bodies(place):
                broker.publish(body)
            await published(broker)
            await eventually(lambda: indexer.figures.events >= 2 * total)
            assert snapshot(place) == before
            assert indexer.figures.written == written and indexer.figures.current >= 3
            assert indexer.figures.failed == 0
        await broker.close()

    within(scenario())


def test_a_crash_between_commit_and_ack_counts_nothing_twice(place: Place) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        first = consumer(place).feed
        await first.start(stop)  # declares the queue and binding, as a running consumer had
        broker = await rasa_broker(place)
        await save_all(place, broker)
        total = len(stored_bodies(place))
        messages = await delivered(first, total)
        assert await first.index(announced([read_notice(m.body) for m in messages]), stop)
        before = snapshot(place)
        await first.close()  # the process dies here: committed, never acked
        second = consumer(place).feed
        await second.start(stop)
        again = await delivered(second, total)
        await second.handle(again, stop)
        assert all(m.redelivered for m in again)
        assert second.figures.redelivered == total and second.figures.written == 0
        assert snapshot(place) == before and await index_matches(place)
        await second.close()
        await broker.close()

    within(scenario())


def test_events_published_while_the_consumer_is_down_are_applied_when_it_starts(
    place: Place,
) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        feed = consumer(place).feed
        await feed.start(stop)  # the consumer ran once (declaring its queue), then went down
        await feed.close()
        broker = await rasa_broker(place)
        await save_all(place, broker)
        total = len(stored_bodies(place))
        assert not await index_matches(place)
        indexer = consumer(place)
        indexer.database.reconcile = no_reconcile  # prove the queue alone catches up
        async with running(indexer):
            await eventually(lambda: indexer.figures.events >= total)
            await eventually(partial(index_matches, place))
        await broker.close()

    within(scenario())


async def no_reconcile(stop: asyncio.Event) -> int:
    """A reconciliation that does nothing (but counts as done)."""
    return 0


def test_an_event_that_never_reached_the_broker_is_reconciled(place: Place) -> None:
    async def scenario() -> None:
        broker = await rasa_broker(place)
        async with running(consumer(place, reconcile=0.3)) as indexer:
            await save_all(place, broker)
            await eventually(partial(index_matches, place))
            await saves_unannounced(place, "c-fallback", follow_up(start=at(day=2), text="hello?"))
            await saves_unannounced(place, "c-unheard", greeting_conversation(start=at(day=3)))
            await eventually(partial(index_matches, place))
            assert indexer.figures.reconciled >= 2
        await broker.close()

    within(scenario())


def test_an_event_announced_before_it_is_stored_is_indexed_once_stored(place: Place) -> None:
    async def scenario() -> None:
        broker = await rasa_broker(place)
        events = assessment_conversation(start=at(day=4))
        async with running(consumer(place)) as indexer:
            for event in events:  # the broker is faster than the tracker store's commit
                broker.publish({"sender_id": "c-early", **event.as_dict()})
            await published(broker)
            await eventually(lambda: indexer.feed.figures.pending == 1)
            await saves_unannounced(place, "c-early", events)
            await eventually(partial(index_matches, place))
            await eventually(lambda: indexer.feed.figures.pending == 0)
            assert indexer.figures.reconciled == 0  # the pending re-read did it, not reconciliation
        await broker.close()

    within(scenario())


def test_an_announced_event_that_is_never_stored_is_given_up_after_its_grace(
    place: Place,
) -> None:
    async def scenario() -> None:
        broker = await rasa_broker(place)
        indexer = consumer(place, grace=1.0)
        async with running(indexer):
            for event in greeting_conversation(start=at(day=4)):  # its save failed afterwards
                broker.publish({"sender_id": "c-lost", **event.as_dict()})
            await published(broker)
            await eventually(lambda: indexer.figures.pending == 1)
            await eventually(lambda: indexer.figures.pending == 0)
            assert indexer.figures.expired == 1
            assert await index_matches(place)  # nothing was indexed for it
        await broker.close()

    within(scenario())


def test_rasa_keeps_events_while_rabbitmq_is_away_and_both_sides_reconnect(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_url(place.amqp_url.replace("amqp://", "postgresql://", 1))
    rasa_side = TcpProxy(host.host or "127.0.0.1", host.port or 5672).start()
    consumer_side = TcpProxy(host.host or "127.0.0.1", host.port or 5672).start()
    monkeypatch.setenv("RABBITMQ_URL", via(rasa_side, place.amqp_url))
    get_settings.cache_clear()

    async def scenario() -> None:
        broker = await rasa_broker(place)
        indexer = consumer(place, url=via(consumer_side, place.amqp_url))
        async with running(indexer):
            await save_all(place, broker)
            await eventually(partial(index_matches, place))
            rasa_side.cut()
            consumer_side.cut()
            await eventually(lambda: not indexer.figures.source_ok)
            assert indexer.health()["ok"] is False
            store = rasa_store(place, broker)
            try:
                await rasa_saves(store, "c-during", emergency_conversation(start=at(day=5)))
                await published(broker)
            finally:
                store.engine.dispose()
            stored = sum(1 for body in stored_bodies(place) if body["sender_id"] == "c-during")
            assert len(broker._unpublished_events) == stored  # kept in Rasa's memory
            rasa_side.restore()
            consumer_side.restore()
            await eventually(lambda: indexer.figures.source_ok, timeout=30)
            await eventually(partial(index_matches, place), timeout=30)
            assert not broker._unpublished_events
            assert indexer.figures.reconciled == 0  # the broker delivered them, after all
            assert indexer.health()["ok"] is True
        await broker.close()

    try:
        within(scenario())
    finally:
        rasa_side.stop()
        consumer_side.stop()


def test_the_consumer_carries_on_after_postgresql_drops_its_connections(place: Place) -> None:
    from tests.services.test_postgres_tracker_store import drop_connections

    async def scenario() -> None:
        broker = await rasa_broker(place)
        async with running(consumer(place)) as indexer:
            await save_all(place, broker)
            await eventually(partial(index_matches, place))
            assert drop_connections(place.database_url) >= 1
            store = rasa_store(place, broker)
            try:
                await rasa_saves(store, "c-after", greeting_conversation(start=at(day=6)))
                await published(broker)
            finally:
                store.engine.dispose()
            await eventually(partial(index_matches, place))
            assert indexer.figures.failed == 0 and indexer.figures.database_ok
        await broker.close()

    within(scenario())


def test_a_refused_login_is_a_configuration_error(place: Place) -> None:
    from bot.indexer.service import ConfigError

    bad = place.amqp_url.replace("guest:guest@", "guest:wrong-password@", 1)
    indexer = consumer(place, url=bad)

    async def scenario() -> None:
        with pytest.raises(ConfigError, match="RabbitMQ refused"):
            await indexer.run(asyncio.Event())

    within(scenario())


def test_unusable_broker_settings_are_refused_before_connecting(place: Place) -> None:
    from bot.indexer.rabbitmq import BrokerConfigError
    from bot.rasa.broker import broker_options

    database = index_database(place.database_url, RabbitFeed.name)
    with pytest.raises(BrokerConfigError, match="amqp://"):
        RabbitFeed("http://example.org", place.queue, database)
    with pytest.raises(ValueError, match="amqp://"):
        broker_options("redis://127.0.0.1:6379", place.queue)
