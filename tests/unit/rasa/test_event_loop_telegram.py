"""The Telegram webhook accepts updates and waits for a chat's turn off the event loop.

The channel's ledger and turn locks are on a SQLite file, their calls slowed down (as under
load); the update's handling itself is a stand-in, so no Bot API is needed. While the handler
waits, a task on the same loop keeps ticking (`LoopWatch`).
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

from bot.db.locks import ConversationLock
from bot.db.models import Base
from bot.db.session import make_engine
from bot.db.telegram import TelegramUpdate
from bot.rasa.channels.telegram import TelegramInput
from bot.rasa.channels.telegram_config import SECRET_HEADER, TelegramConfig
from bot.rasa.channels.telegram_turns import TURN_PREFIX
from bot.rasa.runtime.lock_store import ProjectLockStore
from tests.telegram.updates import message_update, new_chat_id
from tests.unit.rasa.test_event_loop_threads import SLOW, LoopWatch, SlowCalls

SECRET = "loop-test-secret"


@pytest.fixture
def channel_db(tmp_path) -> str:
    """A SQLite file with the ledger and lock tables, as two Rasa processes share it."""
    url = f"sqlite:///{tmp_path / 'channel.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine, tables=[ConversationLock.__table__, TelegramUpdate.__table__])
    engine.dispose()
    return url


class Handled(list):
    """Stands in for the update's handling (the Bot API and Rasa): the update ids, in order."""

    async def __call__(self, update: Any, chat: Any, on_new_message: Any) -> None:
        self.append(update.update_id)


@pytest_asyncio.fixture(loop_scope="function")
async def channel(channel_db: str) -> AsyncIterator[TelegramInput]:
    """The channel as one Rasa process holds it, handling updates with `Handled`."""
    config = TelegramConfig(token="123456:loop-test", secret_token=SECRET)
    made = TelegramInput(
        config, database_url=channel_db, lock_store=ProjectLockStore(url=channel_db)
    )
    made.handle = Handled()  # type: ignore[method-assign]
    await made.prepare()  # as the server does before it serves
    yield made
    await made.close()
    made.ledger.engine.dispose()


def request(update: dict[str, Any]) -> SimpleNamespace:
    """What the handler reads of Telegram's POST."""
    return SimpleNamespace(
        headers={SECRET_HEADER: SECRET}, body=json.dumps(update).encode(), ip="127.0.0.1"
    )


async def rasa(_: Any) -> None:
    """Never reached: `Handled` stands in before Rasa."""


async def settle(channel: TelegramInput) -> None:
    """Wait for the channel's background work."""
    while channel._tasks:
        await asyncio.gather(*list(channel._tasks))


def slow_down(channel: TelegramInput, monkeypatch: pytest.MonkeyPatch) -> SlowCalls:
    """Slow the ledger's and the turn locks' storage calls; where and when each one ran."""
    calls = SlowCalls()
    store = channel.lock_store
    for name in ("issue_ticket", "get_lock", "cleanup"):
        monkeypatch.setattr(store, name, calls.slow(getattr(store, name)))
    monkeypatch.setattr(channel.ledger, "accept", calls.slow(channel.ledger.accept))
    return calls


async def test_the_webhook_keeps_the_loop_free_while_it_accepts_and_waits_for_a_turn(
    channel: TelegramInput, channel_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = slow_down(channel, monkeypatch)
    chat_id, other_worker = new_chat_id(), ProjectLockStore(url=channel_db)
    key = f"{TURN_PREFIX}{chat_id}"
    held = other_worker.issue_ticket(key)  # the chat's previous update, in another process

    async def finish_previous() -> None:
        await asyncio.sleep(4 * SLOW)
        await asyncio.to_thread(other_worker.cleanup, key, held)

    update = message_update(chat_id, "hello")
    async with LoopWatch() as watch:
        previous = asyncio.create_task(finish_previous())
        assert (await channel.receive(request(update), rasa)).status == 200
        await settle(channel)
        await previous
    assert watch.kept_running_during(calls)
    assert len(calls) >= 5  # ticket, ledger, turn still held, turn free, ticket returned
    assert channel.handle == [update["update_id"]]
    assert other_worker.get_lock(key) is None


async def test_an_update_accepted_while_its_request_is_cancelled_is_still_handled(
    channel: TelegramInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger has it, so a repeat is dropped: the update must be handled all the same."""
    started, accept = threading.Event(), channel.ledger.accept

    def observed_accept(*args: Any) -> bool:
        started.set()
        time.sleep(SLOW)
        return accept(*args)

    monkeypatch.setattr(channel.ledger, "accept", observed_accept)
    update = message_update(new_chat_id(), "hello")
    posted = asyncio.create_task(channel.receive(request(update), rasa))
    await asyncio.to_thread(started.wait)
    posted.cancel()  # Telegram hung up while the ledger was recording the update
    with suppress(asyncio.CancelledError):
        await posted
    await settle(channel)
    assert (await channel.receive(request(update), rasa)).status == 200  # the repeat
    await settle(channel)
    assert channel.handle == [update["update_id"]]


async def test_a_chats_updates_arriving_together_are_handled_in_arrival_order(
    channel: TelegramInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first update's ticket takes longest to issue: the later ones still wait for it."""
    store, delays = channel.lock_store, iter([SLOW, 0.0, SLOW / 2])
    assert store is not None
    issue = store.issue_ticket

    def uneven_issue(*args: Any) -> int:
        time.sleep(next(delays))
        return issue(*args)

    monkeypatch.setattr(store, "issue_ticket", uneven_issue)
    chat_id = new_chat_id()
    updates = [message_update(chat_id, text) for text in ("one", "two", "three")]
    replies = await asyncio.gather(*(channel.receive(request(u), rasa) for u in updates))
    await settle(channel)
    assert [reply.status for reply in replies] == [200, 200, 200]
    assert channel.handle == [update["update_id"] for update in updates]


async def test_the_bot_api_client_is_made_off_the_loop_before_the_worker_serves(
    channel_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its HTTP clients load CA certificates: a few hundred milliseconds, slowed further here."""
    calls = SlowCalls()
    monkeypatch.setattr(TelegramConfig, "make_bot", calls.slow(TelegramConfig.make_bot))
    fresh = TelegramInput(TelegramConfig(token="123456:loop-test"), database_url=channel_db)
    blueprint = fresh.blueprint(rasa)
    starting = [
        future.listener
        for future in blueprint._future_listeners
        if future.event == "before_server_start"
    ]
    async with LoopWatch() as watch:
        for listener in starting:
            await listener(None, None)
    assert watch.kept_running_during(calls) and len(calls) == 1
    assert fresh._bot is not None and fresh._ledger is not None
    await fresh.close()
    fresh.ledger.engine.dispose()
