"""The database bus between Socket.IO servers: two real servers sharing one SQLite file."""

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.rasa.channels import socketio_bus
from bot.rasa.channels.socketio_bus import BUS, Cursor, DatabaseBus
from tests.support.socketio_servers import Loop, Server, listener, servers

Pair = tuple[Loop, Server, Server]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """The SQLite file both servers share."""
    return tmp_path / "bus.db"


@pytest.fixture
def pair(database: Path) -> Iterator[Pair]:
    """Two servers (two worker processes, say) with database buses on the same file."""
    url, channel = f"sqlite:///{database}", uuid.uuid4().hex

    def bus() -> DatabaseBus:
        return DatabaseBus(url, channel)

    with servers(bus, bus) as running:
        yield running.loop, *running.servers


def bus_rows(database: Path) -> int:
    """How many messages the bus table holds."""
    with sqlite3.connect(database) as db:
        return db.execute(f"SELECT COUNT(*) FROM {BUS.name}").fetchone()[0]


def test_an_emit_on_one_server_reaches_a_socket_on_another(pair: Pair, database: Path) -> None:
    loop, a, b = pair
    with listener(b.url, "session-1") as visitor, listener(b.url, "session-2") as other:
        loop.run(a.sio.emit("news", {"text": "from A"}, room="session-1"))
        assert visitor.wait_for(1) == [{"text": "from A"}]
        assert other.wait_for(1, timeout=1) == []
    assert bus_rows(database) == 1


def test_a_local_member_gets_the_emit_without_the_bus(pair: Pair, database: Path) -> None:
    loop, a, b = pair
    loop.run(a.sio.emit("news", "warm-up", room="nobody"))  # creates the table
    before = bus_rows(database)
    with listener(a.url, "session-1") as visitor, listener(b.url, "session-1") as elsewhere:
        loop.run(a.sio.emit("news", {"text": "local"}, room="session-1"))
        assert visitor.wait_for(1) == [{"text": "local"}]
        assert bus_rows(database) == before
        assert elsewhere.wait_for(1, timeout=1) == []  # local only: the bus was not used


def test_replies_across_servers_arrive_in_order(pair: Pair, database: Path) -> None:
    loop, a, b = pair
    with listener(b.url, "session-1") as visitor:
        for number in range(5):
            loop.run(a.sio.emit("news", number, room="session-1"))
        assert visitor.wait_for(5) == [0, 1, 2, 3, 4]


def test_a_row_committed_late_is_still_read_once() -> None:
    cursor = Cursor(floor=10)
    assert cursor.fresh([(12, "b")], now=100.0) == ["b"]
    assert cursor.fresh([(11, "a"), (12, "b")], now=100.5) == ["a"]  # 11 committed after 12
    assert cursor.fresh([(11, "a"), (12, "b"), (13, "c")], now=103.0) == ["c"]
    assert cursor.floor >= 12 and cursor.seen <= {13}


def test_each_forked_process_draws_its_own_host_id(monkeypatch: pytest.MonkeyPatch) -> None:
    bus = DatabaseBus("sqlite://", "c")
    parent = bus.host_id
    assert bus.host_id == parent
    monkeypatch.setattr(socketio_bus.os, "getpid", lambda: -1)
    assert bus.host_id != parent
