"""Blocking storage calls (SQLAlchemy, the sync Redis client) run off Rasa's event loop.

Rasa serves every conversation of a worker on one asyncio loop, so a database or Redis call made
on it holds all of them up. The stores and the Telegram channel keep their synchronous code
(shared with other processes and the tests) and call it through `in_thread` at the async
boundary: in the loop's default thread pool, with the same outcome as the blocking call had.
Each call opens its own connection or session there; none is shared between threads.

A blocking call also kept concurrent requests in the order they reached it; where that order
matters (a conversation's tickets), `ArrivalOrder` keeps it for the calls made in threads.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

T = TypeVar("T")


async def in_thread(call: Callable[[], T]) -> T:
    """Run `call` in a worker thread as a blocking call would run: always to its end.

    A cancellation that arrives meanwhile is passed on to the caller's next await, exactly
    where it would have landed after the blocking call, so what the call did (a ticket issued,
    a row recorded) is never lost to the caller. Its errors are raised here.
    """
    work = asyncio.ensure_future(asyncio.to_thread(call))
    cancelled = False
    while not work.done():
        try:
            await asyncio.wait([work])
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        current = asyncio.current_task()
        if current is not None:
            current.cancel()
    return work.result()


def completed(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends (Rasa's async wrappers of sync work)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError(f"{coroutine.__qualname__} suspended: it needs the event loop")


class ArrivalOrder:
    """Lets the tasks of one key through one at a time, in the order they arrived (FIFO).

    Each event loop has its own queues: an asyncio lock belongs to one loop, and only the tasks
    of one loop ever waited for each other's blocking calls.
    """

    def __init__(self) -> None:
        """No key held yet."""
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._waiting: Counter[Hashable] = Counter()

    @asynccontextmanager
    async def turn_of(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for the key's earlier arrivals on this loop to be done, then hold the key."""
        slot = (asyncio.get_running_loop(), key)  # touched by this loop's thread only
        lock = self._locks.setdefault(slot, asyncio.Lock())
        self._waiting[slot] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[slot] -= 1
            if not self._waiting[slot]:  # nobody else: forget the key
                del self._waiting[slot], self._locks[slot]

    def __len__(self) -> int:
        """How many keys are held or waited for, on every loop."""
        return len(self._locks)
