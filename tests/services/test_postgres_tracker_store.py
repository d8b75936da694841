"""The tracker store on a real PostgreSQL keeps working after the server dropped its connections.

A PostgreSQL restart closes every connection the store keeps in its pool. Terminating this
database's backends does the same to the pool without disturbing anything else on the server.
"""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.core.settings import get_settings
from bot.rasa.runtime.tracker_store import ProjectSQLTrackerStore, connection_fields
from tests.support.conversations import domain
from tests.support.services import require_postgres


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty PostgreSQL database as DATABASE_URL; dropped afterwards."""
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"pilotrock_test_{uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(require_postgres()).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def drop_connections(url: str) -> int:
    """Close every server connection to the database at `url`, as a restart would."""
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %(name)s AND pid <> pg_backend_pid()",
                    {"name": make_url(url).database},
                ).fetchall()
            )
    finally:
        admin.dispose()


def turn(sender_id: str, text: str) -> DialogueStateTracker:
    """A tracker with one visitor message."""
    tracker = DialogueStateTracker(sender_id, domain().slots)
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered(text),
    ):
        tracker.update(event)
    return tracker


async def test_the_next_message_after_a_restart_works(database_url: str) -> None:
    store = ProjectSQLTrackerStore(domain=domain())
    try:
        await store.save(turn("visitor-1", "hello"))
        assert await store.retrieve("visitor-1") is not None  # a connection now waits in the pool
        assert drop_connections(database_url) >= 1
        await store.save(turn("visitor-2", "hi again"))
        stored = await store.retrieve("visitor-2")
        assert stored is not None and stored.latest_message.text == "hi again"
    finally:
        store.engine.dispose()


async def test_without_the_check_rasas_own_store_fails_on_the_dead_connection(
    database_url: str,
) -> None:
    """The scenario above is a real one: Rasa's plain store breaks on it."""
    store = SQLTrackerStore(domain=domain(), **connection_fields(database_url))
    try:
        await store.save(turn("visitor-1", "hello"))
        assert drop_connections(database_url) >= 1
        with pytest.raises(OperationalError):
            await store.retrieve("visitor-1")
    finally:
        store.engine.dispose()
