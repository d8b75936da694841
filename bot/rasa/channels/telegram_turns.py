"""A Telegram chat's updates take turns on Rasa's own lock store, across every Rasa process.

The webhook takes a ticket on the chat's turn lock when it accepts an update, before it
answers Telegram, so tickets follow the order in which updates were accepted, whichever process
accepted them. The update's work (the channel's own replies, then Rasa) starts once every
earlier ticket is done, and the ticket is returned afterwards. The lock store is the one
endpoints.yml configures for Rasa (the project database by default, Redis in the production
profile), so the order holds for workers on one host and replicas on several. A process that
dies holding a turn lets the chat go on once the ticket's lifetime has passed.

The turn lock is not the conversation's own lock (Rasa takes that one inside each turn): its
key is the chat id under a prefix of its own.

The lock store's calls block (database, Redis), so they run in a worker thread, never on the
event loop; only Rasa's in-memory store, which keeps its locks in this process's memory and is
not safe across threads, is called directly. Within one process a chat's updates take their
tickets one at a time, in the order they arrived (`ArrivalOrder`, used by the channel).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore

from bot.rasa.runtime.threads import in_thread

logger = logging.getLogger("bot.rasa.channels.telegram")
T = TypeVar("T")

TURN_PREFIX = "telegram-chat:"
TURN_STEP = 0.05  # seconds between looks at whether the turn has come


@dataclass(frozen=True)
class Turn:
    """One accepted update's ticket on its chat's turn lock."""

    store: LockStore
    chat_id: int
    ticket: int

    @property
    def key(self) -> str:
        """The turn lock's id in the lock store."""
        return f"{TURN_PREFIX}{self.chat_id}"


async def call(store: LockStore, method: Callable[[], T]) -> T:
    """One lock store call: in a worker thread, or directly on Rasa's in-memory store."""
    if isinstance(store, InMemoryLockStore):
        return method()
    return await in_thread(method)


async def take_turn(store: LockStore, chat_id: int) -> Turn:
    """The chat's next turn (raises LockError when the lock store cannot issue it)."""
    key = f"{TURN_PREFIX}{chat_id}"
    return Turn(store, chat_id, await call(store, partial(store.issue_ticket, key, LOCK_LIFETIME)))


async def wait_for(turn: Turn, step: float = TURN_STEP) -> None:
    """Return once every earlier turn of the chat is done (or has expired).

    If this turn's own ticket expired while it waited, or the lock store stopped answering,
    the update goes ahead rather than never: Rasa's conversation lock still orders its work.
    """
    while True:
        try:
            lock = await call(turn.store, partial(turn.store.get_lock, turn.key))
        except LockError as error:
            logger.warning(
                "Telegram chat %s: turn order unknown (%s)", turn.chat_id, type(error).__name__
            )
            return
        if lock is None or not lock.is_locked(turn.ticket):
            return
        if all(ticket.number != turn.ticket for ticket in lock.tickets):
            return  # expired while waiting: is_locked() dropped it from this copy
        await asyncio.sleep(step)


async def end_turn(turn: Turn) -> None:
    """Let the chat's next update go (its ticket expires anyway if this fails)."""
    try:
        await call(turn.store, partial(turn.store.cleanup, turn.key, turn.ticket))
    except LockError as error:
        logger.warning(
            "Telegram chat %s: turn not released (%s)", turn.chat_id, type(error).__name__
        )
