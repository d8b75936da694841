"""Rasa's SQL tracker store, configured from the project's DATABASE_URL."""

from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.db.session import sqlite_pragmas
from bot.settings import get_settings


class ProjectSQLTrackerStore(SQLTrackerStore):
    """Transcripts in the project's one database (SQLite by default, PostgreSQL in production)."""

    def __init__(self, domain: Domain | None = None, event_broker: Any = None, **_: Any) -> None:
        """Connect to `DATABASE_URL` instead of per-field endpoint settings."""
        url = make_url(get_settings().database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query),
        )
        if url.get_backend_name() == "sqlite":
            self._pool_sqlite_connections()

    def _pool_sqlite_connections(self) -> None:
        """Reuse SQLite connections (SQLAlchemy 1.4 opens one per session for a file)."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = create_engine(
            url, poolclass=QueuePool, connect_args={"check_same_thread": False}
        )
        event.listen(
            self.engine, "connect", lambda conn, _: sqlite_pragmas(conn, foreign_keys=False)
        )
        self.sessionmaker = sessionmaker(bind=self.engine)
