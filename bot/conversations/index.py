"""The conversation index: one summary row per tracker-store conversation, kept up to date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.conversations.events import StoredEvent, ensure_events_table, events_table, to_event
from bot.conversations.summary import Summary, summarise
from bot.db.models import Booking, Lead
from bot.db.reviews import ConversationIndex

CHUNK = 200
REFRESH_LOCK_KEY = 6_020_001  # PostgreSQL advisory lock: one index refresh at a time


def refresh_index(session: Session, *, recheck: Iterable[str] = ()) -> int:
    """Bring the index up to date; returns how many index rows were written or removed.

    Only conversations whose newest event id differs from the indexed `last_event_id` are
    re-read (found with one grouped query); rows whose events are gone are deleted. `recheck`
    names conversations to re-summarise anyway (a lead or booking changed outside the chat).
    The caller commits.
    """
    ensure_events_table(session)
    lock_refresh(session)
    removed = drop_missing(session)
    latest = changed_conversations(session)
    for conversation_id in set(recheck) - set(latest):
        newest = newest_event_id(session, conversation_id)
        if newest is not None:
            latest[conversation_id] = newest
    for chunk in chunks(sorted(latest), CHUNK):
        write_rows(session, chunk)
    session.flush()
    return removed + len(latest)


def lock_refresh(session: Session) -> None:
    """Serialise refreshes (PostgreSQL advisory lock; SQLite writers already take the lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))


def drop_missing(session: Session) -> int:
    """Delete index rows of conversations that no longer have any events."""
    gone = ~exists().where(events_table.c.sender_id == ConversationIndex.conversation_id)
    result = session.execute(
        delete(ConversationIndex).where(gone).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def changed_conversations(session: Session) -> dict[str, int]:
    """{conversation id: newest event id} for conversations new or changed since indexing."""
    latest = (
        select(events_table.c.sender_id, func.max(events_table.c.id).label("last_id"))
        .group_by(events_table.c.sender_id)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.sender_id, latest.c.last_id)
        .outerjoin(ConversationIndex, ConversationIndex.conversation_id == latest.c.sender_id)
        .where(
            or_(
                ConversationIndex.conversation_id.is_(None),
                ConversationIndex.last_event_id != latest.c.last_id,
            )
        )
    )
    return {row.sender_id: row.last_id for row in rows}


def newest_event_id(session: Session, conversation_id: str) -> int | None:
    """The id of a conversation's newest event, or None if it has none."""
    return session.scalar(
        select(func.max(events_table.c.id)).where(events_table.c.sender_id == conversation_id)
    )


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_rows(session: Session, conversation_ids: Sequence[str]) -> None:
    """Summarise these conversations and insert or update their index rows."""
    events = events_by_conversation(session, conversation_ids)
    leads, booked = conversions(session, conversation_ids)
    existing = {
        row.conversation_id: row
        for row in session.scalars(
            select(ConversationIndex).where(ConversationIndex.conversation_id.in_(conversation_ids))
        )
    }
    for conversation_id, stored in events.items():
        summary = summarise(stored, lead=conversation_id in leads, booked=conversation_id in booked)
        row = existing.get(conversation_id)
        if row is None:
            row = ConversationIndex(conversation_id=conversation_id)
            session.add(row)
        apply_summary(row, summary, last_event_id=stored[-1].id)


def events_by_conversation(
    session: Session, conversation_ids: Sequence[str]
) -> dict[str, list[StoredEvent]]:
    """Every event of these conversations, grouped by conversation, oldest first."""
    grouped: dict[str, list[StoredEvent]] = defaultdict(list)
    rows = session.execute(
        select(events_table)
        .where(events_table.c.sender_id.in_(conversation_ids))
        .order_by(events_table.c.sender_id, events_table.c.id)
    )
    for row in rows:
        grouped[row.sender_id].append(to_event(row))
    return grouped


def conversions(session: Session, conversation_ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Which of these conversations have a lead, and which a confirmed booking."""
    leads = session.scalars(
        select(Lead.conversation_id).where(Lead.conversation_id.in_(conversation_ids)).distinct()
    )
    booked = session.scalars(
        select(Lead.conversation_id)
        .join(Booking, Booking.lead_id == Lead.id)
        .where(Lead.conversation_id.in_(conversation_ids), Booking.status == "confirmed")
        .distinct()
    )
    return set(leads), set(booked)


def apply_summary(row: ConversationIndex, summary: Summary, *, last_event_id: int) -> None:
    """Copy a summary onto an index row (the index has a column for every summary field)."""
    for name, value in asdict(summary).items():
        setattr(row, name, value)
    row.channel = summary.channel[:32]
    row.last_event_id = last_event_id
