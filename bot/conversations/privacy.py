"""Deleting personal data: one conversation on request, and everything past retention."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.db import audit
from bot.db.handoffs import Handoff
from bot.db.models import Booking, CallbackRequest, Lead, OutboxMessage, utcnow
from bot.db.reviews import (
    Annotation,
    AnswerAnnotation,
    ConversationIndex,
    ConversationNote,
    ConversationReview,
    ConversationTag,
    RiskAnnotation,
)
from bot.db.telegram import TelegramUpdate
from bot.rasa.events import events_table

CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit
TELEGRAM_CHAT = re.compile(r"-?\d{1,19}")  # a Telegram conversation's id is its chat id
CONVERSATION_TABLES: tuple[Table, ...] = tuple(
    model.__table__
    for model in (
        CallbackRequest,
        ConversationIndex,
        ConversationReview,
        ConversationTag,
        ConversationNote,
        Annotation,
        AnswerAnnotation,
        RiskAnnotation,
        Handoff,
    )
)


@dataclass(frozen=True)
class ErasureReport:
    """How many rows of each table one erasure deleted."""

    conversation_id: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """All rows deleted."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class PurgeReport:
    """What a retention purge deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    conversations: int
    leads: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All rows deleted (or that would be)."""
        return sum(self.counts.values())


def erase_conversation(session: Session, conversation_id: str, *, actor: str) -> ErasureReport:
    """Delete a conversation and everything learned in it, in the caller's transaction.

    Removes its Rasa events, its leads with their bookings and those bookings' outbox
    messages, its callback requests, index entry, review, tags, notes, intent annotations,
    answer labels, risk labels and live-takeover records (with their hand-back notes), and
    records one audit entry with the counts only.
    """
    counts = delete_conversations(session, [conversation_id])
    lead_ids = session.scalars(select(Lead.id).where(Lead.conversation_id == conversation_id))
    counts.update(delete_leads(session, list(lead_ids)))
    report = ErasureReport(conversation_id, dict(counts))
    audit.record(
        session,
        actor=actor,
        action="erase_conversation",
        target_type="conversation",
        target_id=conversation_id,
        details=report.counts,
    )
    return report


def purge_older_than(
    session: Session,
    *,
    days: int,
    now: datetime | None = None,
    actor: str,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete conversations idle for `days` days and unconverted leads older than that.

    A conversation goes when its newest event is older than the cutoff; its rows go as in
    `erase_conversation`, except leads: a lead goes when it is older than the cutoff and has
    no booking, whatever its conversation. Leads with a booking stay. A dry run only counts.
    """
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    cutoff = (now or utcnow()) - timedelta(days=days)
    conversation_ids = idle_conversations(session, cutoff)
    lead_ids = unconverted_leads(session, cutoff)
    counts = delete_conversations(session, conversation_ids, dry_run=dry_run)
    counts.update(delete_leads(session, lead_ids, dry_run=dry_run))
    report = PurgeReport(cutoff, dry_run, len(conversation_ids), len(lead_ids), dict(counts))
    if not dry_run:
        audit.record(
            session,
            actor=actor,
            action="retention_purge",
            target_type="retention",
            details={"days": days, "conversations": report.conversations, **report.counts},
        )
    return report


def has_events_table(session: Session) -> bool:
    """Whether Rasa has created its `events` table in this database yet."""
    return inspect(session.connection()).has_table(events_table.name)


def idle_conversations(session: Session, cutoff: datetime) -> list[str]:
    """Ids of conversations whose newest event is older than `cutoff`."""
    if not has_events_table(session):
        return []
    newest = func.max(events_table.c.timestamp)
    query = (
        select(events_table.c.sender_id)
        .group_by(events_table.c.sender_id)
        .having(newest < cutoff.timestamp())
    )
    return list(session.scalars(query))


def unconverted_leads(session: Session, cutoff: datetime) -> list[int]:
    """Ids of leads created before `cutoff` that never booked a call."""
    booked = select(Booking.id).where(Booking.lead_id == Lead.id).exists()
    query = select(Lead.id).where(Lead.created_at < cutoff, ~booked)
    return list(session.scalars(query))


def delete_conversations(
    session: Session, conversation_ids: Sequence[str], *, dry_run: bool = False
) -> Counter[str]:
    """Delete (or count) the Rasa events, staff rows and Telegram updates of these conversations."""
    counts: Counter[str] = Counter()
    for table in CONVERSATION_TABLES:
        counts[table.name] = remove(
            session, table, table.c.conversation_id, conversation_ids, dry_run=dry_run
        )
    chat_ids = [int(c) for c in conversation_ids if TELEGRAM_CHAT.fullmatch(c)]
    updates = TelegramUpdate.__table__
    counts[updates.name] = remove(session, updates, updates.c.chat_id, chat_ids, dry_run=dry_run)
    counts["events"] = 0
    if has_events_table(session):
        counts["events"] = remove(
            session, events_table, events_table.c.sender_id, conversation_ids, dry_run=dry_run
        )
    return counts


def delete_leads(
    session: Session, lead_ids: Sequence[int], *, dry_run: bool = False
) -> Counter[str]:
    """Delete (or count) leads, their bookings and those bookings' outbox messages."""
    booking_ids = [
        booking_id
        for chunk in chunks(lead_ids)
        for booking_id in session.scalars(select(Booking.id).where(Booking.lead_id.in_(chunk)))
    ]
    counts: Counter[str] = Counter()
    # bookings.lead_id has no ON DELETE: children first.
    for table, column, ids in (
        (OutboxMessage.__table__, OutboxMessage.booking_id, booking_ids),
        (Booking.__table__, Booking.id, booking_ids),
        (Lead.__table__, Lead.id, lead_ids),
    ):
        counts[table.name] = remove(session, table, column, ids, dry_run=dry_run)
    return counts


def remove(
    session: Session,
    table: Table,
    column: ColumnElement,
    values: Sequence[object],
    *,
    dry_run: bool,
) -> int:
    """Delete the rows of `table` whose `column` is in `values`; the number of rows."""
    total = 0
    for chunk in chunks(values):
        where = column.in_(chunk)
        if dry_run:
            total += session.scalar(select(func.count()).select_from(table).where(where)) or 0
        else:
            total += session.execute(delete(table).where(where)).rowcount or 0
    return total


def chunks(values: Sequence[object], size: int = CHUNK) -> Iterable[Sequence[object]]:
    """`values` in slices of at most `size`."""
    return (values[start : start + size] for start in range(0, len(values), size))
