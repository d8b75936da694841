"""The tracker store and the lock stores do their database work off the event loop.

Each store works on a SQLite file with its storage calls slowed down (as under load): while it
does, a task on the same loop keeps ticking (`LoopWatch`, `SlowCalls`). The stores' contracts
hold: errors raised, events streamed once and from the loop, tickets issued in arrival order
and cleaned up.
"""

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError

from bot.core.settings import get_settings
from bot.db.locks import ConversationLock
from bot.db.session import make_engine
from bot.rasa.runtime.lock_store import OffLoopLocks, ProjectLockStore, RedisTicketLockStore
from bot.rasa.runtime.tracker_store import ProjectSQLTrackerStore
from tests.unit.rasa.test_event_loop_threads import SLOW, LoopWatch, SlowCalls

DOMAIN = Domain.from_dict({"intents": ["greet"]})


@pytest.fixture
def tracker_store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectSQLTrackerStore]:
    """The project's tracker store on a new SQLite file, as DATABASE_URL configures it."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'rasa.db'}")
    get_settings.cache_clear()
    store = ProjectSQLTrackerStore(domain=DOMAIN)
    yield store
    store.engine.dispose()
    get_settings.cache_clear()


def conversation(sender_id: str) -> DialogueStateTracker:
    """A short conversation as Rasa's processor holds it."""
    events = [
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        BotUttered("Hello!"),
    ]
    return DialogueStateTracker.from_events(sender_id, events, slots=DOMAIN.slots)


def dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    """A tracker's events, comparable."""
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


class Broker:
    """Stands in for the event broker: what it was given, and on which thread."""

    def __init__(self) -> None:
        self.published: list[tuple[int, str]] = []

    def publish(self, event: dict[str, Any], headers: Any = None) -> None:
        self.published.append((threading.get_ident(), event["event"]))


async def test_the_tracker_store_reads_and_writes_off_the_loop(tracker_store) -> None:
    calls = SlowCalls()
    tracker_store.sessionmaker = calls.slow(tracker_store.sessionmaker)
    tracker = conversation("visitor-1")
    async with LoopWatch() as watch:
        await tracker_store.save(tracker)
        stored = await tracker_store.retrieve("visitor-1")
        full = await tracker_store.retrieve_full_tracker("visitor-1")
        keys = await tracker_store.keys()
    assert watch.kept_running_during(calls) and len(calls) == 4
    assert dicts(stored) == dicts(full) == dicts(tracker)
    assert list(keys) == ["visitor-1"]


async def test_a_save_streams_new_events_from_the_loop_and_stores_them_once(tracker_store) -> None:
    broker, calls = Broker(), SlowCalls()
    tracker_store.event_broker = broker
    tracker_store.sessionmaker = calls.slow(tracker_store.sessionmaker)
    tracker = conversation("visitor-2")
    async with LoopWatch() as watch:
        await tracker_store.save(tracker)
        tracker.update(BotUttered("Anything else?"))
        await tracker_store.save(tracker)
    assert watch.kept_running_during(calls) and len(calls) == 4  # 2 saves: read, then write
    assert [name for _, name in broker.published] == [e.type_name for e in tracker.events]
    assert {thread for thread, _ in broker.published} == {watch.loop_thread}
    assert dicts(await tracker_store.retrieve("visitor-2")) == dicts(tracker)


async def test_a_tracker_store_error_is_raised_not_swallowed(tracker_store) -> None:
    with tracker_store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    with pytest.raises(SQLAlchemyError):
        await tracker_store.retrieve("visitor-3")
    with pytest.raises(SQLAlchemyError):
        await tracker_store.save(conversation("visitor-3"))


@pytest.fixture
def lock_db(tmp_path) -> str:
    """A SQLite file with the conversation_locks table."""
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    engine = make_engine(url)
    ConversationLock.__table__.create(engine)
    engine.dispose()
    return url


def slow_down(store: ProjectLockStore, monkeypatch: pytest.MonkeyPatch) -> SlowCalls:
    """Slow every storage call of `store`; where and when each one ran."""
    calls = SlowCalls()
    for name in ("issue_ticket", "get_lock", "update_lock", "cleanup"):
        monkeypatch.setattr(store, name, calls.slow(getattr(store, name)))
    return calls


async def test_waiting_for_a_conversation_lock_keeps_the_loop_free(
    lock_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, other_worker = ProjectLockStore(url=lock_db), ProjectLockStore(url=lock_db)
    calls = slow_down(store, monkeypatch)
    held = other_worker.issue_ticket("conv-1")  # the conversation's previous message

    async def finish_previous() -> None:
        await asyncio.sleep(2.5 * SLOW)
        await asyncio.to_thread(other_worker.cleanup, "conv-1", held)

    async with LoopWatch() as watch:
        previous = asyncio.create_task(finish_previous())
        async with store.lock("conv-1", wait_time_in_seconds=0.05) as lock:
            assert lock.now_serving == held + 1
        await previous
    assert watch.kept_running_during(calls)
    assert len(calls) >= 5  # issued, read (held), updated, read (free), cleaned up
    assert store.get_lock("conv-1") is None


async def test_a_conversations_messages_get_their_tickets_in_arrival_order(
    lock_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first message's ticket takes longest to issue: the later ones still wait for it."""
    store, order = ProjectLockStore(url=lock_db), []
    issue, delays = store.issue_ticket, iter([SLOW, 0.0, SLOW / 2])

    def uneven_issue(*args: Any) -> int:
        time.sleep(next(delays))
        return issue(*args)

    monkeypatch.setattr(store, "issue_ticket", uneven_issue)

    async def message(name: str) -> None:
        async with store.lock("conv-2", wait_time_in_seconds=0.02):
            order.append(name)

    await asyncio.gather(message("a"), message("b"), message("c"))
    assert order == ["a", "b", "c"]


async def test_a_message_cancelled_while_its_ticket_is_issued_leaves_no_ticket_behind(
    lock_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, started, issued = ProjectLockStore(url=lock_db), threading.Event(), threading.Event()
    issue = store.issue_ticket

    def observed_issue(*args: Any) -> int:
        started.set()
        time.sleep(SLOW)
        try:
            return issue(*args)
        finally:
            issued.set()

    monkeypatch.setattr(store, "issue_ticket", observed_issue)

    async def message() -> None:
        async with store.lock("conv-3"):
            await asyncio.sleep(5)

    task = asyncio.create_task(message())
    await asyncio.to_thread(started.wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(issued.wait)
    assert store.get_lock("conv-3") is None  # issued, then cleaned up


@pytest.mark.parametrize("store_class", [ProjectLockStore, RedisTicketLockStore])
def test_both_lock_stores_take_their_locks_off_the_loop(store_class: type) -> None:
    assert store_class.lock is OffLoopLocks.lock
    assert store_class._acquire_lock is OffLoopLocks._acquire_lock
