"""Rasa's events table followed by increasing id: the one reader of new events in a staff app.

Rasa's tracker store writes the `events` table in both profiles (SQLite in the embedded default,
PostgreSQL in production), so following it needs no broker. Two things can hide a row from a
reader that only asks for ids above the last one it saw:

- late commits: on PostgreSQL concurrent writers (several Rasa workers) take sequence ids in one
  order and may commit in another. An id skipped over is remembered as a gap and asked for again
  on every read until it turns up or `GAP_SECONDS` pass (a rolled-back insert never does).
- reused ids: SQLite hands out the ids of the newest rows again once they are deleted (an
  erasure). The tail keeps the timestamp of the row at its position; when that row is gone or has
  changed, it steps back to the newest row no newer than that timestamp and reads on from there.
  Rows read twice are harmless: pages show each event id once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.rasa.events import events_table

BATCH = 500  # rows per read
GAP_SECONDS = 30.0  # how long an id skipped over may still commit
MAX_GAPS = 1000  # ids remembered as gaps at most (the oldest are given up first)


@dataclass
class EventTail:
    """Where the reader stands: the last id read, its row's timestamp and the open gaps."""

    position: int = 0
    marker: float | None = None  # the timestamp of the row at `position`
    gaps: dict[int, float] = field(default_factory=dict)  # id -> until when it may still commit

    def start(self, session: Session) -> None:
        """Stand at the newest row: only events stored from now on are new."""
        newest = session.scalar(select(func.max(events_table.c.id))) or 0
        self.position, self.marker = newest, timestamp_of(session, newest)
        self.gaps.clear()

    def read(self, session: Session, now: float, limit: int = BATCH) -> list[Any]:
        """The rows stored since the last read (late ones included), in id order."""
        if self.rewound(session):
            self.rewind(session)
        query = select(events_table).where(events_table.c.id > self.position)
        rows = list(session.execute(query.order_by(events_table.c.id).limit(limit)))
        late = self.late_rows(session, now)
        self.advance(rows, now)
        return sorted(late + rows, key=lambda row: row.id)

    def rewound(self, session: Session) -> bool:
        """Whether the row at the position is gone or another (ids were deleted, maybe reused)."""
        return bool(self.position) and timestamp_of(session, self.position) != self.marker

    def rewind(self, session: Session) -> None:
        """Step back to the newest row no newer than the one last read."""
        query = select(func.max(events_table.c.id)).where(events_table.c.id <= self.position)
        if self.marker is not None:
            query = query.where(events_table.c.timestamp <= self.marker)
        self.position = session.scalar(query) or 0
        self.marker = timestamp_of(session, self.position)

    def late_rows(self, session: Session, now: float) -> list[Any]:
        """The rows of open gaps that have committed since; expired gaps are given up."""
        for gap in [gap for gap, until in self.gaps.items() if until < now]:
            del self.gaps[gap]
        if not self.gaps:
            return []
        rows = list(session.execute(select(events_table).where(events_table.c.id.in_(self.gaps))))
        for row in rows:
            del self.gaps[row.id]
        return rows

    def advance(self, rows: list[Any], now: float) -> None:
        """Move past `rows`, remembering the ids skipped over as gaps."""
        if not rows:
            return
        seen = {row.id for row in rows}
        first = max(self.position + 1, rows[-1].id - MAX_GAPS)
        for missing in range(first, rows[-1].id):
            if missing not in seen:
                self.gaps[missing] = now + GAP_SECONDS
        for gap in sorted(self.gaps)[: max(len(self.gaps) - MAX_GAPS, 0)]:
            del self.gaps[gap]
        self.position, self.marker = rows[-1].id, rows[-1].timestamp


def timestamp_of(session: Session, event_id: int) -> float | None:
    """The timestamp of the row with this id (None if there is none)."""
    if not event_id:
        return None
    return session.scalar(select(events_table.c.timestamp).where(events_table.c.id == event_id))
