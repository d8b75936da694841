"""A Rasa lock store on the project database: several Rasa workers without Redis.

Rasa serialises the messages of one conversation with ticket locks. Its in-memory store only
works inside one process; this store keeps the locks in DATABASE_URL (SQLite by default) and
changes each lock inside one write transaction, so workers never lose each other's tickets.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, Engine

from bot.db.locks import ConversationLock
from bot.db.session import make_engine
from bot.settings import get_settings

LOCKS = ConversationLock.__table__
ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:cid))")


class ProjectLockStore(LockStore):
    """Ticket locks in the `conversation_locks` table, changed atomically."""

    def __init__(self, endpoint_config: Any = None, url: str | None = None) -> None:
        """Connect to `url` (default: DATABASE_URL): one engine for changes, one for reads."""
        url = url or get_settings().database_url
        self.engine: Engine = make_engine(url)
        self.reader: Engine = make_engine(url, immediate=False)

    @contextmanager
    def _transaction(self, conversation_id: str) -> Iterator[Connection]:
        """A write transaction holding the conversation's lock row (SQLite: BEGIN IMMEDIATE)."""
        with self.engine.begin() as connection:
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
        with self.reader.connect() as connection:
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
        try:
            with self._transaction(conversation_id) as connection:
                lock = self._read(connection, conversation_id) or self.create_lock(
                    conversation_id
                )
                ticket = lock.issue_ticket(lock_lifetime)
                self._write(connection, lock)
                return ticket
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

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
                connection.execute(
                    delete(LOCKS).where(LOCKS.c.conversation_id == conversation_id)
                )
