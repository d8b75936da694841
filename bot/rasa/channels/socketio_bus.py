"""Socket.IO client managers that reach a visitor's socket in any worker process or replica.

Rasa's HTTP API (a navigator's message, say) may run in a process other than the one holding
the visitor's WebSocket. An emit to a room with a member in this process is delivered here and
goes nowhere else; an emit to a room with no member here goes through a bus to every process:

- `RedisBus`: python-socketio's `AsyncRedisManager` (REDIS_URL set, the production profile).
- `DatabaseBus`: rows in the `socketio_bus` table of DATABASE_URL (SQLite or PostgreSQL), polled
  by id every 0.2 s; rows older than a minute are deleted. The table is created on first use.

Both serialise messages as JSON (the server's JSON module). Each process draws its own host id:
Sanic forks its workers after the app, and with it the manager, has been built.
"""

import asyncio
import os
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from socketio import AsyncManager, AsyncRedisManager
from socketio.async_pubsub_manager import AsyncPubSubManager
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.settings import Settings, get_settings
from bot.db.session import make_engine

POLL_SECONDS = 0.2
KEEP_SECONDS = 60.0  # rows older than this are deleted
PRUNE_EVERY_SECONDS = 15.0
LATE_COMMIT_SECONDS = 2.0  # a row committed this long after a higher id is still delivered
RETRY_SECONDS = 1.0

BUS = Table(
    "socketio_bus",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("created_at", Float, nullable=False, index=True),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,  # ids never reused after pruning: listeners read by id
)


class ProcessHostId:
    """A pub/sub host id drawn afresh in each process (forked workers must not share one)."""

    _host_id: str
    _host_pid: int

    @property
    def host_id(self) -> str:
        """This process's id on the bus."""
        if getattr(self, "_host_pid", None) != os.getpid():
            self.host_id = uuid.uuid4().hex
        return self._host_id

    @host_id.setter
    def host_id(self, value: str) -> None:
        """Set by AsyncPubSubManager.__init__."""
        self._host_id, self._host_pid = value, os.getpid()


class LocalFirst:
    """Emits to a room with a member in this process are delivered here, without the bus."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        """AsyncPubSubManager.emit, bypassing the bus when the room has a local member."""
        room = to or room
        if callback is None and self.has_local_member(namespace or "/", room, skip_sid):
            kwargs["ignore_queue"] = True
        return await super().emit(  # type: ignore[misc]
            event,
            data,
            namespace=namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )

    def has_local_member(self, namespace: str, room: object, skip_sid: object = None) -> bool:
        """Whether a socket of this process (other than `skip_sid`) is in `room`."""
        if not isinstance(room, str):
            return False  # a broadcast or a list of rooms: every process may have members
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        participants = self.get_participants(namespace, room)  # type: ignore[attr-defined]
        return any(sid not in skip for sid, _ in participants)


class RedisBus(LocalFirst, ProcessHostId, AsyncRedisManager):
    """python-socketio's Redis manager, local-first, with a host id per process."""


@dataclass
class Cursor:
    """Which bus rows a listener has passed on: every id up to `floor`, and `seen` above it.

    The floor trails the highest id read by LATE_COMMIT_SECONDS, so a row whose id was drawn
    before a higher one's but committed after it (PostgreSQL) is still read, once.
    """

    floor: int
    seen: set[int] = field(default_factory=set)
    marks: deque[tuple[float, int]] = field(default_factory=deque)

    def fresh(self, rows: Iterable[tuple[int, str]], now: float) -> list[str]:
        """The payloads of `rows` not passed on before, in id order."""
        rows = sorted(rows)
        new = [(row_id, payload) for row_id, payload in rows if row_id not in self.seen]
        self.seen.update(row_id for row_id, _ in new)
        if rows:
            self.marks.append((now, rows[-1][0]))
        while self.marks and now - self.marks[0][0] >= LATE_COMMIT_SECONDS:
            self.floor = max(self.floor, self.marks.popleft()[1])
        self.seen = {row_id for row_id in self.seen if row_id > self.floor}
        return [payload for _, payload in new]


class DatabaseBus(LocalFirst, ProcessHostId, AsyncPubSubManager):
    """A pub/sub client manager over the project database (the embedded default)."""

    name = "database"

    def __init__(self, url: str | None = None, channel: str = "socketio", **kwargs: Any) -> None:
        """Publish and listen on `channel` in `url` (default: DATABASE_URL)."""
        super().__init__(channel=channel, **kwargs)
        self.url = url or get_settings().database_url
        self._engines: tuple[int, Engine, Engine] | None = None
        self._pruned_at = 0.0

    def engines(self) -> tuple[Engine, Engine]:
        """This process's writer and reader engines, made (and the table created) on first use."""
        if self._engines is None or self._engines[0] != os.getpid():
            writer, reader = make_engine(self.url), make_engine(self.url, immediate=False)
            create_table(writer)
            self._engines = (os.getpid(), writer, reader)
        return self._engines[1], self._engines[2]

    async def _publish(self, data: Any) -> None:
        """Insert one message (logged, not raised, when the database is away)."""
        payload = self.json.dumps(data)
        try:
            await asyncio.to_thread(self._insert, payload, time.time())
        except SQLAlchemyError as error:
            self._get_logger().error("socket.io bus: cannot publish (%s)", type(error).__name__)

    def _insert(self, payload: str, now: float) -> None:
        """Store a message; now and then delete the old ones."""
        writer, _ = self.engines()
        with writer.begin() as db:
            db.execute(insert(BUS).values(channel=self.channel, created_at=now, payload=payload))
            if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
                db.execute(delete(BUS).where(BUS.c.created_at < now - KEEP_SECONDS))
                self._pruned_at = now

    async def _listen(self) -> AsyncIterator[str]:
        """Every message published from now on, polled by id."""
        started, cursor = time.time(), None
        while True:
            try:
                if cursor is None:
                    cursor = Cursor(await asyncio.to_thread(self._last_id_before, started))
                rows = await asyncio.to_thread(self._rows_after, cursor.floor)
            except SQLAlchemyError as error:
                self._get_logger().warning("socket.io bus: cannot read (%s)", type(error).__name__)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for payload in cursor.fresh(rows, time.time()):
                yield payload
            await asyncio.sleep(POLL_SECONDS)

    def _last_id_before(self, moment: float) -> int:
        """The highest id of the rows created before `moment` (0 if none)."""
        _, reader = self.engines()
        query = select(func.max(BUS.c.id)).where(BUS.c.created_at < moment)
        with reader.connect() as db:
            return db.execute(query).scalar() or 0

    def _rows_after(self, floor: int) -> list[tuple[int, str]]:
        """(id, payload) of this channel's rows above `floor`."""
        _, reader = self.engines()
        query = (
            select(BUS.c.id, BUS.c.payload)
            .where(BUS.c.id > floor, BUS.c.channel == self.channel)
            .order_by(BUS.c.id)
        )
        with reader.connect() as db:
            return [(row.id, row.payload) for row in db.execute(query)]


def create_table(engine: Engine) -> None:
    """Create the bus table unless it exists (another process may be creating it too)."""
    try:
        BUS.create(engine, checkfirst=True)
    except SQLAlchemyError:
        if not inspect(engine).has_table(BUS.name):
            raise


def client_manager(settings: Settings | None = None) -> AsyncManager:
    """Redis when REDIS_URL is set, else the database bus."""
    settings = settings or get_settings()
    if settings.redis_url:
        return RedisBus(settings.redis_url, channel="pilotrock-socketio")
    return DatabaseBus(settings.database_url, channel="pilotrock-socketio")
