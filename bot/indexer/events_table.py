"""The embedded default's event source: Rasa's own `events` table, tailed by increasing id.

Why this table rather than Rasa's SQL event broker: that broker writes a second copy of every
event, message texts included, to a database of its own (its table is also named `events`, so it
cannot live in the tracker's database), where erasure and retention purges would not reach it, and
it needs one more endpoint to configure. The tracker's table already holds exactly the events, and
on SQLite one writer at a time hands out its ids, so they commit in increasing order: a reader that
remembers the last id it applied (the checkpoint, saved in the same transaction as the index rows)
sees every new event. SQLite may hand out the ids of the newest rows again once they are deleted
(an erasure), so the checkpoint also keeps its event's timestamp: when the row at the checkpoint is
gone or has another timestamp, ids were reused and the pass reconciles instead.

On PostgreSQL without RabbitMQ the same tail works, but sequence ids can commit out of order under
concurrent writers; an event committed below the checkpoint is picked up by the next periodic
reconciliation. The production profile reads Rasa's RabbitMQ broker instead (bot.indexer.rabbitmq).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversations.index import IndexChange, index_conversations, lock_refresh, refresh_index
from bot.db.models import utcnow
from bot.db.reviews import IndexCheckpoint
from bot.indexer.database import IndexDatabase, pause
from bot.rasa.events import ensure_events_table, events_table

log = logging.getLogger("bot.indexer")

SOURCE = "rasa-events"  # the checkpoint's key
BATCH = 500  # events per pass (one transaction)
POLL = 0.5  # seconds between looks at the table while nothing is new


@dataclass(frozen=True)
class TailPass:
    """What one pass did."""

    events: int  # events read after the checkpoint
    position: int  # the checkpoint after the pass
    backlog: int  # events (by id) still unread after the pass
    change: IndexChange = field(default_factory=IndexChange)
    rewound: bool = False  # the table's newest id was below the checkpoint: reconciled instead


def checkpoint(session: Session) -> tuple[int, float | None]:
    """(id, timestamp) of the last event applied; (0, None) before the first pass."""
    row = session.get(IndexCheckpoint, SOURCE)
    return (row.position, row.marker) if row is not None else (0, None)


def save_checkpoint(session: Session, position: int, marker: float | None) -> None:
    """Remember that every event up to `position` is applied (in the caller's transaction)."""
    row = session.get(IndexCheckpoint, SOURCE)
    if row is None:
        row = IndexCheckpoint(source=SOURCE)
        session.add(row)
    row.position, row.marker, row.updated_at = position, marker, utcnow()
    session.flush()


def newest_id(session: Session) -> int:
    """The highest id in the events table (0 when empty)."""
    return session.scalar(select(func.max(events_table.c.id))) or 0


def marker_of(session: Session, event_id: int) -> float | None:
    """The timestamp of the event with this id (None if there is none)."""
    return session.scalar(select(events_table.c.timestamp).where(events_table.c.id == event_id))


def reused(session: Session, position: int, marker: float | None, newest: int) -> bool:
    """Whether ids up to the checkpoint were deleted (and may be handed out again)."""
    if not position:
        return False
    return newest < position or marker_of(session, position) != marker


def unread(session: Session) -> int:
    """How many ids lie past the checkpoint (1 if ids were reused: a pass must reconcile)."""
    (position, marker), newest = checkpoint(session), newest_id(session)
    return 1 if reused(session, position, marker, newest) else newest - position


def tail_pass(session: Session, limit: int = BATCH) -> TailPass:
    """Apply the next `limit` events after the checkpoint and move it, in the caller's transaction.

    The events only name the conversations to bring up to date (bot.conversations.index): a pass
    over events already applied writes nothing.
    """
    ensure_events_table(session)
    lock_refresh(session)
    (position, marker), newest = checkpoint(session), newest_id(session)
    if reused(session, position, marker, newest):
        fixed = refresh_index(session)
        save_checkpoint(session, newest, marker_of(session, newest))
        return TailPass(0, newest, 0, IndexChange(written=fixed), rewound=True)
    rows = next_rows(session, position, limit)
    if not rows:
        return TailPass(0, position, 0)
    change = index_conversations(session, {row.sender_id for row in rows})
    last = rows[-1]
    save_checkpoint(session, last.id, last.timestamp)
    return TailPass(len(rows), last.id, max(newest - last.id, 0), change)


def next_rows(session: Session, position: int, limit: int = BATCH) -> list[Any]:
    """(id, sender_id, timestamp) of the next `limit` events after `position`."""
    columns = (events_table.c.id, events_table.c.sender_id, events_table.c.timestamp)
    query = select(*columns).where(events_table.c.id > position).order_by(events_table.c.id)
    return list(session.execute(query.limit(limit)).all())


def unread_rows(session: Session, limit: int = BATCH) -> list[Any]:
    """The next `limit` events after the checkpoint; none if ids were reused."""
    (position, marker), newest = checkpoint(session), newest_id(session)
    return [] if reused(session, position, marker, newest) else next_rows(session, position, limit)


def newest_row(session: Session) -> list[Any]:
    """The newest event (id, sender_id, timestamp) as a list of at most one."""
    return next_rows(session, newest_id(session) - 1, 1)


class EventsTableFeed:
    """Feeds the consumer from the events table: a cheap look while idle, a pass when not."""

    name = SOURCE

    def __init__(self, database: IndexDatabase, limit: int = BATCH, poll: float = POLL) -> None:
        """Tail through `database`, `limit` events a pass, looking every `poll` seconds."""
        self.database = database
        self.figures = database.figures
        self.limit = limit
        self.poll = poll

    async def start(self, stop: asyncio.Event) -> None:
        """Nothing to connect: the source is the index database itself."""

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop`; waits `poll` seconds whenever nothing is new."""
        while not stop.is_set():
            waiting = await self.database.read_until_done(unread, stop)
            self.figures.source_ok = self.figures.database_ok
            if waiting is None:
                break
            self.figures.backlog = waiting
            if waiting:
                await self.one_pass(stop)
            else:
                self.figures.beat()
                await pause(stop, self.poll)

    async def one_pass(self, stop: asyncio.Event) -> None:
        """One pass in one transaction; if it fails on bad data, conversation by conversation."""
        try:
            done = await self.database.run_until_done(partial(tail_pass, limit=self.limit), stop)
        except Exception as error:
            log.error("index pass failed (%s); indexing one by one", type(error).__name__)
            done = await self.skip_through(stop)
        if done is None:
            return
        self.figures.events += done.events
        self.figures.applied(done.change)
        self.figures.backlog = done.backlog
        self.figures.beat()

    async def skip_through(self, stop: asyncio.Event) -> TailPass | None:
        """Index the next events' conversations one at a time, then move the checkpoint."""
        rows = await self.database.read_until_done(partial(unread_rows, limit=self.limit), stop)
        if rows is None:
            return None
        if not rows:  # ids were reused: reconcile (chunk by chunk), then start from the newest
            fixed = await self.database.reconcile(stop)
            rows = await self.database.read_until_done(newest_row, stop)
            if not rows:
                return None
            await self.move_to(rows[-1], stop)
            return TailPass(0, rows[-1].id, 0, IndexChange(written=fixed), rewound=True)
        change = await self.database.apply_each(sorted({row.sender_id for row in rows}), stop)
        await self.move_to(rows[-1], stop)
        return TailPass(len(rows), rows[-1].id, 0, change)

    async def move_to(self, row: Any, stop: asyncio.Event) -> None:
        """Move the checkpoint to this event."""
        move = partial(save_checkpoint, position=row.id, marker=row.timestamp)
        await self.database.run_until_done(move, stop)

    async def close(self) -> None:
        """Nothing to close."""
