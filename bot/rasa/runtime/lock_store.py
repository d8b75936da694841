"""Rasa lock stores whose every lock change is atomic, so replicas never lose a ticket.

Rasa serialises the messages of one conversation with ticket locks. Its stores change a lock
in separate steps (read, issue, write), so two processes issuing tickets at once can overwrite
each other's ticket (rasa#9213): two messages of a conversation then run at the same time.

- `ProjectLockStore` keeps the locks in DATABASE_URL (the embedded default, several workers on
  one host without Redis) and changes each lock inside one write transaction.
- `RedisTicketLockStore` is Rasa's Redis store (the production profile, replicas on several
  hosts) with each change made in one optimistic transaction (WATCH/MULTI, retried).

Both raise Rasa's LockError when their storage cannot be reached. Their methods are
synchronous (the Telegram channel and the tests call them too); Rasa's async `lock()` runs them
in a worker thread (`OffLoopLocks`), so waiting for storage never holds up the event loop, and
issues a conversation's tickets in the order its messages reached `lock()` in this process.
"""

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from redis.client import Pipeline
from redis.exceptions import RedisError, WatchError
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.settings import get_settings
from bot.db.locks import ConversationLock
from bot.db.session import make_engine
from bot.rasa.runtime.threads import ArrivalOrder, in_thread

T = TypeVar("T")


@contextmanager
def as_lock_error(*storage_errors: type[Exception]) -> Iterator[None]:
    """Raise Rasa's LockError for a storage error (its type only: no keys, no data)."""
    try:
        yield
    except storage_errors as error:
        raise LockError(f"Lock store unavailable: {type(error).__name__}") from error


LOCKS = ConversationLock.__table__
ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:cid))")
ISSUING = ArrivalOrder()  # conversations whose tickets are being issued in this process


class OffLoopLocks(LockStore):
    """Rasa's `lock()` with each storage call (issue, read, update, cleanup) in a worker thread."""

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Same contract as LockStore.lock: a ticket, its turn, then the ticket's cleanup."""
        async with ISSUING.turn_of(conversation_id):  # as blocking calls did: in arrival order
            ticket = await in_thread(partial(self.issue_ticket, conversation_id, lock_lifetime))
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await in_thread(partial(self.cleanup, conversation_id, ticket))

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Same contract as LockStore._acquire_lock, the lock read and updated in a thread."""
        while True:
            lock = await in_thread(partial(self.get_lock, conversation_id))
            if not lock:  # expired meanwhile
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await in_thread(partial(self.update_lock, conversation_id))


class ProjectLockStore(OffLoopLocks):
    """Ticket locks in the `conversation_locks` table, changed atomically."""

    def __init__(self, endpoint_config: Any = None, url: str | None = None) -> None:
        """Connect to `url` (default: DATABASE_URL): one engine for changes, one for reads."""
        url = url or get_settings().database_url
        self.engine: Engine = make_engine(url)
        self.reader: Engine = make_engine(url, immediate=False)

    @contextmanager
    def _transaction(self, conversation_id: str) -> Iterator[Connection]:
        """A write transaction holding the conversation's lock row (SQLite: BEGIN IMMEDIATE)."""
        with as_lock_error(SQLAlchemyError), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(ADVISORY_LOCK, {"cid": conversation_id})
            yield connection

    @staticmethod
    def _read(connection: Connection, conversation_id: str) -> TicketLock | None:
        """The stored lock of a conversation, or None."""
        data = connection.execute(
            select(LOCKS.c.data).where(LOCKS.c.conversation_id == conversation_id)
        ).scalar_one_or_none()
        return TicketLock.from_dict(json.loads(data)) if data else None

    @staticmethod
    def _write(connection: Connection, lock: TicketLock) -> None:
        """Store a lock, replacing the conversation's previous one."""
        key = LOCKS.c.conversation_id == lock.conversation_id
        if connection.execute(select(LOCKS.c.conversation_id).where(key)).first():
            connection.execute(LOCKS.update().where(key).values(data=lock.dumps()))
        else:
            connection.execute(
                LOCKS.insert().values(conversation_id=lock.conversation_id, data=lock.dumps())
            )

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of `conversation_id` (on SQLite without taking the write lock)."""
        with as_lock_error(SQLAlchemyError), self.reader.connect() as connection:
            return self._read(connection, conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store `lock`."""
        with self._transaction(lock.conversation_id) as connection:
            self._write(connection, lock)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of `conversation_id`."""
        with self._transaction(conversation_id) as connection:
            connection.execute(delete(LOCKS).where(LOCKS.c.conversation_id == conversation_id))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue a ticket on the conversation's lock in one transaction."""
        with self._transaction(conversation_id) as connection:
            lock = self._read(connection, conversation_id) or self.create_lock(conversation_id)
            ticket = lock.issue_ticket(lock_lifetime)
            self._write(connection, lock)
            return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets in one transaction."""
        with self._transaction(conversation_id) as connection:
            lock = self._read(connection, conversation_id)
            if lock:
                lock.remove_expired_tickets()
                self._write(connection, lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish serving a ticket and delete the lock if nobody waits, in one transaction."""
        with self._transaction(conversation_id) as connection:
            lock = self._read(connection, conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self._write(connection, lock)
            else:
                connection.execute(delete(LOCKS).where(LOCKS.c.conversation_id == conversation_id))


REDIS_KEY_PREFIX = "pilotrock"  # keys are "pilotrock:lock:<conversation id>"
REDIS_ATTEMPTS = 200  # optimistic retries of one change (each retry means another one won)
KEY_GRACE = 10.0  # seconds a lock key outlives its last ticket (clock skew between hosts)
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


def redis_options(url: str) -> dict[str, Any]:
    """RedisLockStore's connection arguments for a redis:// or rediss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ValueError("REDIS_URL must look like redis://host:6379/0")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


def endpoint_options(endpoint_config: Any) -> dict[str, Any]:
    """The lock_store block's own settings; its `url` is the host, as in Rasa's Redis store."""
    if endpoint_config is None:
        return {}
    options = dict(endpoint_config.kwargs or {})
    options.pop("type", None)
    if endpoint_config.url:
        options["host"] = endpoint_config.url
    return options


def key_lifetime_ms(lock: TicketLock) -> int:
    """How long a stored lock is kept: until its last ticket expires, plus a grace period."""
    last = max((ticket.expires for ticket in lock.tickets), default=time.time() + LOCK_LIFETIME)
    return max(1, math.ceil((last - time.time() + KEY_GRACE) * 1000))


class RedisTicketLockStore(OffLoopLocks, RedisLockStore):
    """Rasa's Redis lock store with issue, update and cleanup each one atomic transaction.

    Configured by the lock_store block (host, port, db, password, key_prefix...) or, without a
    host there, by REDIS_URL. A stored lock expires by itself after its last ticket, so a
    replica killed while holding one leaves nothing behind. Redis errors raise LockError.
    """

    def __init__(self, endpoint_config: Any = None, url: str | None = None, **options: Any) -> None:
        """Connect as the endpoint block says, else to `url` (default: REDIS_URL)."""
        options = {**endpoint_options(endpoint_config), **options}
        if "host" not in options:
            options.update(redis_options(url or get_settings().redis_url))
        options.setdefault("key_prefix", REDIS_KEY_PREFIX)
        super().__init__(**options)

    def _key(self, conversation_id: str) -> str:
        """The Redis key of a conversation's lock."""
        return self.key_prefix + conversation_id

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of `conversation_id`."""
        with as_lock_error(RedisError):
            return super().get_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store `lock`, expiring after its last ticket."""
        with as_lock_error(RedisError):
            self.red.set(self._key(lock.conversation_id), lock.dumps(), px=key_lifetime_ms(lock))

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of `conversation_id`."""
        with as_lock_error(RedisError):
            super().delete_lock(conversation_id)

    def _atomically(self, conversation_id: str, change: Change[T]) -> T:
        """Read the lock, apply `change`, write its result (None deletes), all or nothing."""
        key = self._key(conversation_id)
        with as_lock_error(RedisError), self.red.pipeline() as pipe:
            for _ in range(REDIS_ATTEMPTS):
                try:
                    return self._change_once(pipe, key, change)
                except WatchError:
                    continue  # another replica changed the lock first: read it again
        raise LockError(f"Lock changed by others {REDIS_ATTEMPTS} times in a row; gave up")

    @staticmethod
    def _change_once(pipe: Pipeline, key: str, change: Change[T]) -> T:
        """One optimistic try: WATCH and read the lock, then write the change in MULTI/EXEC."""
        pipe.watch(key)
        stored = cast(bytes | None, pipe.get(key))  # immediate mode after WATCH: a value
        lock = TicketLock.from_dict(json.loads(stored)) if stored else None
        changed, result = change(lock)
        new = changed.dumps() if changed is not None else None
        if new == (stored.decode() if stored else None):
            pipe.unwatch()  # nothing changed: writing would only make other replicas retry
            return result
        pipe.multi()
        if changed is None:
            pipe.delete(key)
        else:
            pipe.set(key, changed.dumps(), px=key_lifetime_ms(changed))
        pipe.execute()
        return result

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue a ticket on the conversation's lock (made if missing), atomically."""

        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._atomically(conversation_id, issue)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, atomically (a missing lock stays missing)."""

        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomically(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish serving a ticket; delete the lock if nobody waits. Atomically."""

        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return (lock if lock is not None and lock.is_someone_waiting() else None), None

        self._atomically(conversation_id, finish)
