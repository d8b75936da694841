"""Rasa's SQL tracker store, configured from the project's DATABASE_URL.

SQLite connections are pooled and get the project's pragmas; a server database's connections
are checked before use (`pool_pre_ping`), so after a PostgreSQL restart the next message gets a
fresh connection instead of failing on a dead pooled one.

Rasa's async methods run their SQLAlchemy work on the event loop; here that work (Rasa's own
code, each call with its own session) runs in a worker thread (`bot.rasa.runtime.threads`).
Only the event broker's part of a save, which schedules its publishing on the loop, stays there.
"""

from collections.abc import Iterable
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.conversations.privacy import erase_conversation
from bot.core.settings import get_settings
from bot.db.session import normalize_url, session_scope, sqlite_pragmas
from bot.rasa.runtime.threads import completed, in_thread

DELETION_SLOT = "deletion_requested"  # set by action_delete_my_data
# True inside the worker thread of a save, whose events were streamed on the loop beforehand.
STREAMED: ContextVar[bool] = ContextVar("events_streamed", default=False)


def connection_fields(url: str | URL) -> dict[str, Any]:
    """Rasa SQLTrackerStore's per-field connection arguments for a database URL."""
    parsed = normalize_url(url)
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database or "",
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query),
    }


class ProjectSQLTrackerStore(SQLTrackerStore):
    """Transcripts in the project's one database (SQLite by default, PostgreSQL in production)."""

    engine: Engine

    def __init__(self, domain: Domain | None = None, event_broker: Any = None, **_: Any) -> None:
        """Connect to `DATABASE_URL` instead of per-field endpoint settings."""
        url = normalize_url(get_settings().database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(domain=domain, event_broker=event_broker, **connection_fields(url))
        self._replace_engine(self.engine.url)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store new events, or erase the conversation when the visitor asked for deletion.

        Rasa's save re-inserts every event of a session whose rows are missing, so the erasure
        happens here instead of in the action: the tracker is not saved again, and the next
        message starts a fresh conversation.
        """
        if tracker.get_slot(DELETION_SLOT):
            await in_thread(partial(erase_visitor_conversation, tracker.sender_id))
            return
        await self.stream_events(tracker)  # on the loop: the broker publishes from it
        await in_thread(partial(self._store_events, tracker))

    def _store_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save without its streaming (already done), run to the end in this thread."""
        STREAMED.set(True)  # in this call's own copy of the context only
        completed(SQLTrackerStore.save(self, tracker))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's, except inside `_store_events`, whose events were streamed before."""
        if not STREAMED.get():
            await super().stream_events(tracker)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's query and deserialisation of a conversation, in a worker thread."""
        query = partial(super()._retrieve, sender_id, fetch_events_from_all_sessions)
        return await in_thread(lambda: completed(query()))

    async def keys(self) -> Iterable[str]:
        """Rasa's list of conversation ids, read in a worker thread."""
        query = super().keys
        return await in_thread(lambda: completed(query()))

    def _replace_engine(self, url: URL) -> None:
        """Swap Rasa's engine for one that pools SQLite or pre-pings server connections."""
        self.engine.dispose()
        if url.get_backend_name() == "sqlite":
            # SQLAlchemy 1.4 would open one SQLite connection per session for a file.
            self.engine = create_engine(
                url, poolclass=QueuePool, connect_args={"check_same_thread": False}
            )
            event.listen(
                self.engine, "connect", lambda conn, _: sqlite_pragmas(conn, foreign_keys=False)
            )
        else:
            self.engine = create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)


def erase_visitor_conversation(conversation_id: str) -> None:
    """Erase one conversation at the visitor's request (events and project rows, one commit)."""
    with session_scope() as session:
        erase_conversation(session, conversation_id, actor="visitor")
