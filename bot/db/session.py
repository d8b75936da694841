"""Engines and sessions for DATABASE_URL (SQLite: WAL, busy timeout, foreign keys)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.core.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 5000
_FACTORIES: dict[str, sessionmaker] = {}
_LOCK = Lock()


def normalize_url(url: str | URL) -> URL:
    """Parse `url`, accepting the `postgres://` spelling some hosts hand out."""
    text = str(url)
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    return make_url(text)


def make_engine(url: str | URL, *, foreign_keys: bool = True, immediate: bool = True) -> Engine:
    """A 2.0-style engine; SQLite files get WAL, a busy timeout and (for writers) immediate
    transactions; `immediate=False` suits a reader: its statements run without a transaction."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, future=True, pool_pre_ping=True)
    file_based = parsed.database not in (None, "", ":memory:")
    if file_based:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"poolclass": QueuePool} if file_based else {}
    engine = create_engine(
        parsed, future=True, connect_args={"check_same_thread": False}, **options
    )
    _configure_sqlite(engine, foreign_keys=foreign_keys, immediate=immediate)
    return engine


def sqlite_pragmas(dbapi_connection: Any, *, foreign_keys: bool) -> None:
    """WAL journal, a busy timeout, WAL-safe syncing and foreign keys on one connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.close()


def _configure_sqlite(engine: Engine, *, foreign_keys: bool, immediate: bool) -> None:
    """Set pragmas per connection and let SQLAlchemy, not pysqlite, run transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        """Turn off pysqlite's own BEGIN handling (it breaks SAVEPOINT) and set pragmas."""
        dbapi_connection.isolation_level = None
        sqlite_pragmas(dbapi_connection, foreign_keys=foreign_keys)

    if not immediate:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        """Take the write lock up front so concurrent writers wait instead of failing."""
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(url: str | None = None) -> sessionmaker:
    """The session factory for `url` (default: DATABASE_URL), one engine per URL."""
    key = url or get_settings().database_url
    with _LOCK:
        if key not in _FACTORIES:
            _FACTORIES[key] = sessionmaker(
                bind=make_engine(key), future=True, expire_on_commit=False
            )
        return _FACTORIES[key]


def dispose_engines() -> None:
    """Close and forget every cached engine (tests, or a process that has just forked)."""
    with _LOCK:
        for factory in _FACTORIES.values():
            factory.kw["bind"].dispose()
        _FACTORIES.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success, rolls back on error and always closes."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
