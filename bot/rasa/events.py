"""Rasa's `events` table (written by the SQL tracker store), read with SQLAlchemy Core."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

# Rasa's own schema (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); not in our migrations.
RASA_METADATA = MetaData()
events_table = Table(
    "events",
    RASA_METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class StoredEvent:
    """One row of Rasa's events table with its JSON decoded."""

    id: int
    conversation_id: str
    type_name: str
    at: datetime
    data: dict[str, Any]


def to_event(row: Any) -> StoredEvent:
    """A StoredEvent from an `events` row."""
    return StoredEvent(
        id=row.id,
        conversation_id=row.sender_id,
        type_name=row.type_name,
        at=datetime.fromtimestamp(row.timestamp or 0, tz=timezone.utc),
        data=json.loads(row.data) if row.data else {},
    )


def load_events(session: Session, conversation_id: str) -> list[StoredEvent]:
    """Every stored event of one conversation, oldest first."""
    rows = session.execute(
        select(events_table)
        .where(events_table.c.sender_id == conversation_id)
        .order_by(events_table.c.id)
    )
    return [to_event(row) for row in rows]


def ensure_events_table(session: Session) -> None:
    """Create Rasa's `events` table if Rasa has not yet (a staff app or the indexer started first).

    Runs on the session's own connection: a second connection would wait for the session's
    write lock on SQLite. In a savepoint, so that losing a race with Rasa creating it at the same
    moment (PostgreSQL refuses the second CREATE) leaves the caller's transaction usable.
    """
    if inspect(session.connection()).has_table(events_table.name):
        return
    try:
        with session.begin_nested():
            RASA_METADATA.create_all(session.connection(), checkfirst=True)
    except (IntegrityError, ProgrammingError):
        if not inspect(session.connection()).has_table(events_table.name):
            raise


def last_visitor_message(session: Session, conversation_id: str) -> StoredEvent | None:
    """The conversation's newest `user` event, if it has one."""
    row = session.execute(
        select(events_table)
        .where(events_table.c.sender_id == conversation_id, events_table.c.type_name == "user")
        .order_by(events_table.c.id.desc())
        .limit(1)
    ).first()
    return to_event(row) if row else None


def events_after(
    session: Session, conversation_id: str, after_id: int, limit: int = 200
) -> list[StoredEvent]:
    """The conversation's events with an id above `after_id`, oldest first (at most `limit`)."""
    rows = session.execute(
        select(events_table)
        .where(events_table.c.sender_id == conversation_id, events_table.c.id > after_id)
        .order_by(events_table.c.id)
        .limit(limit)
    )
    return [to_event(row) for row in rows]
