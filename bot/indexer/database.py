"""The index database as the consumer uses it: one transaction at a time, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.index import (
    CHUNK,
    IndexChange,
    chunks,
    index_conversations,
    stale_conversations,
)
from bot.indexer.figures import Figures

log = logging.getLogger("bot.indexer")

T = TypeVar("T")
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between attempts while the database is away


def transient(error: BaseException) -> bool:
    """Whether an error means "the database is unreachable or busy", worth retrying."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class IndexDatabase:
    """Runs units of work on the index database and keeps its figures honest."""

    def __init__(
        self, sessions: sessionmaker, figures: Figures, reader: sessionmaker | None = None
    ) -> None:
        """Write with `sessions`, read without taking SQLite's write lock with `reader`."""
        self.sessions = sessions
        self.reader = reader or sessions
        self.figures = figures
        self._lock = asyncio.Lock()

    def commit(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction and commit it (blocking)."""
        with self.sessions() as session:
            result = work(session)
            session.commit()
            return result

    async def run(self, work: Callable[[Session], T]) -> T:
        """`commit` in a worker thread, one unit of work at a time."""
        async with self._lock:
            return await asyncio.to_thread(self.commit, work)

    def look(self, work: Callable[[Session], T]) -> T:
        """Run read-only `work` with the reader (blocking); nothing is committed."""
        with self.reader() as session:
            return work(session)

    async def read_until_done(self, work: Callable[[Session], T], stop: asyncio.Event) -> T | None:
        """`look` in a worker thread, retried while the database is unreachable."""
        return await self._retrying(partial(asyncio.to_thread, self.look, work), stop)

    async def run_until_done(self, work: Callable[[Session], T], stop: asyncio.Event) -> T | None:
        """`run`, retried while the database is unreachable; None if stopped before it ran."""
        return await self._retrying(partial(self.run, work), stop)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event) -> T | None:
        """`attempt()` until it succeeds or `stop` is set, retrying while the database is down."""
        delay = RETRY_FIRST
        while not stop.is_set():
            try:
                result = await attempt()
            except Exception as error:
                if not transient(error):
                    raise
                self.figures.database_ok = False
                if delay == RETRY_FIRST:  # once per outage
                    log.warning(
                        "index database unavailable or busy (%s); retrying", type(error).__name__
                    )
                await pause(stop, delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            self.figures.database_ok = True
            return result
        return None

    async def apply(self, conversation_ids: Iterable[str], stop: asyncio.Event) -> IndexChange:
        """Index these conversations, a transaction per chunk; one by one if a chunk fails."""
        total = IndexChange()
        for chunk in chunks(sorted(set(conversation_ids)), CHUNK):
            work = partial(index_conversations, conversation_ids=chunk)
            try:
                change = await self.run_until_done(work, stop)
            except Exception as error:
                log.error("index batch failed (%s); indexing one by one", type(error).__name__)
                change = await self.apply_each(chunk, stop)
            total.add(change or IndexChange())
        self.figures.applied(total)
        return total

    async def apply_each(self, conversation_ids: Iterable[str], stop: asyncio.Event) -> IndexChange:
        """Index conversations in a transaction each; a failing one is counted and left."""
        total = IndexChange()
        for conversation_id in conversation_ids:
            work = partial(index_conversations, conversation_ids=[conversation_id])
            try:
                total.add(await self.run_until_done(work, stop) or IndexChange())
            except Exception as error:
                self.figures.failed += 1
                log.error("a conversation could not be indexed (%s)", type(error).__name__)
        return total

    async def reconcile(self, stop: asyncio.Event) -> int:
        """Re-summarise every conversation whose row is behind its events; rows fixed."""
        found = await self.run_until_done(stale_conversations, stop)
        if found is None:
            return 0
        removed, stale = found
        change = await self.apply(stale, stop)
        fixed = removed + change.written
        self.figures.removed += removed
        self.figures.reconciliations += 1
        self.figures.reconciled += fixed
        self.figures.beat()
        if fixed:
            log.info("reconciliation fixed %d index rows", fixed)
        return fixed

    def dispose(self) -> None:
        """Close the pooled connections of both session factories."""
        for factory in {self.sessions, self.reader}:
            factory.kw["bind"].dispose()

    def ping(self) -> bool:
        """Whether the database answers now (for the health check, from its own thread)."""
        try:
            with self.reader() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            self.figures.database_ok = False
            return False
        self.figures.database_ok = True
        return True
