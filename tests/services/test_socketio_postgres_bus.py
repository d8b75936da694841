"""The database bus between Socket.IO servers on the real PostgreSQL (no Redis configured)."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from bot.rasa.channels.socketio_bus import BUS, DatabaseBus
from tests.support.services import require_postgres
from tests.support.socketio_servers import listener, servers


@pytest.fixture
def database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"pilotrock_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(require_postgres()).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def bus_rows(url: str) -> int:
    """How many messages the bus table holds."""
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return db.execute(select(func.count()).select_from(BUS)).scalar_one()
    finally:
        engine.dispose()


def test_emits_reach_a_socket_on_another_server_and_stay_local_when_they_can(
    database_url: str,
) -> None:
    channel = uuid.uuid4().hex

    def bus() -> DatabaseBus:
        return DatabaseBus(database_url, channel)

    with servers(bus, bus) as running:
        loop, (a, b) = running.loop, running.servers
        with listener(b.url, "session-1") as remote, listener(a.url, "session-2") as local:
            for number in range(3):
                loop.run(a.sio.emit("news", number, room="session-1"))
            assert remote.wait_for(3) == [0, 1, 2]
            assert bus_rows(database_url) == 3
            loop.run(a.sio.emit("news", "here", room="session-2"))
            assert local.wait_for(1) == ["here"]
            assert bus_rows(database_url) == 3
