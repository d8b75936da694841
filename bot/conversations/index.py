"""The conversation index: one summary row per tracker-store conversation, with its intent counts.

The index consumer (`bot.indexer`) keeps it up to date; staff pages only read it. A row's
`last_event_id` is the id of the newest event it summarises, written in the same transaction as
the row: it is the row's watermark, so applying a change twice (a redelivered broker message, a
batch read again after a crash) finds the row already at the newest event and writes nothing.
Rows are re-summarised from all of the conversation's stored events, never patched with deltas, so
no count can be added twice.

Writing a row also alerts the team on duty (`risk_alerts`, in the same transaction) when the
conversation holds a risk detection newer than the one the row last alerted for: the row keeps that
event id, so re-reading the conversation, or a rebuild, alerts no one again; detections older than
ALERT_WINDOW when first read (a rebuild, a backlog) are marked without alerting.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from bot.conversations.risk_alerts import alert_risk
from bot.conversations.summary import Summary, summarise
from bot.db.models import Booking, Lead, utcnow
from bot.db.reviews import ConversationIndex, ConversationIntent
from bot.intake.risk import stored_assessment
from bot.rasa.events import StoredEvent, ensure_events_table, events_table, to_event

CHUNK = 200
REFRESH_LOCK_KEY = 6_020_001  # PostgreSQL advisory lock: one index writer at a time
ALERT_WINDOW = timedelta(minutes=30)  # older risk detections are news to no one: no alert


@dataclass
class IndexChange:
    """What one call did: rows written, rows removed, conversations found already current."""

    written: int = 0
    removed: int = 0
    current: int = 0

    def add(self, other: IndexChange) -> None:
        """Add another change's counts to this one."""
        self.written += other.written
        self.removed += other.removed
        self.current += other.current


def index_conversations(
    session: Session, conversation_ids: Iterable[str], *, now: datetime | None = None
) -> IndexChange:
    """Bring these conversations' rows up to their newest stored events; the caller commits.

    A conversation whose row already ends at its newest event is left alone (its events were
    applied before); one without events loses its row; the others are re-summarised.
    """
    ensure_events_table(session)
    lock_refresh(session)
    change = IndexChange()
    for chunk in chunks(sorted(set(conversation_ids)), CHUNK):
        newest = newest_event_ids(session, chunk)
        indexed = indexed_event_ids(session, chunk)
        stale = [c for c, last in newest.items() if indexed.get(c) != last]
        change.removed += remove_rows(session, [c for c in indexed if c not in newest])
        write_rows(session, stale, now=now)
        change.written += len(stale)
        change.current += len(newest) - len(stale)
    session.flush()
    return change


def refresh_index(
    session: Session, *, recheck: Iterable[str] = (), now: datetime | None = None
) -> int:
    """Reconcile the index with the events; returns how many rows were written or removed.

    Only conversations whose newest event id differs from the indexed `last_event_id` are
    re-read (found with one grouped query); rows whose events are gone are deleted. `recheck`
    names conversations to re-summarise anyway (a lead or booking changed outside the chat).
    New risk detections queue the team's alert emails. The caller commits.
    """
    removed, changed = stale_conversations(session)
    stale = set(changed)
    for chunk in chunks(sorted(set(recheck) - stale), CHUNK):
        stale.update(newest_event_ids(session, chunk))
    for chunk in chunks(sorted(stale), CHUNK):
        write_rows(session, chunk, now=now)
    session.flush()
    return removed + len(stale)


def stale_conversations(session: Session) -> tuple[int, list[str]]:
    """Drop rows whose events are gone; returns (rows dropped, conversations behind events)."""
    ensure_events_table(session)
    lock_refresh(session)
    return drop_missing(session), sorted(changed_conversations(session))


def rebuild_index(sessions: Callable[[], Session], *, now: datetime | None = None) -> int:
    """Re-summarise every conversation, one committed chunk at a time; returns rows written.

    For operators (`python -m bot index rebuild`), e.g. after the summary rules changed. Short
    transactions keep SQLite's single write lock free for Rasa between chunks.
    """
    with sessions() as session:
        ensure_events_table(session)
        lock_refresh(session)
        drop_missing(session)
        conversation_ids = sorted(session.scalars(select(events_table.c.sender_id).distinct()))
        session.commit()
    for chunk in chunks(conversation_ids, CHUNK):
        with sessions() as session:
            lock_refresh(session)
            write_rows(session, chunk, now=now)
            session.commit()
    return len(conversation_ids)


def lock_refresh(session: Session) -> None:
    """Serialise index writers (PostgreSQL advisory lock; SQLite writers already take the lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))


def drop_missing(session: Session) -> int:
    """Delete index rows of conversations without events, and intent counts without a row."""
    gone = ~exists().where(events_table.c.sender_id == ConversationIndex.conversation_id)
    result = session.execute(
        delete(ConversationIndex).where(gone).execution_options(synchronize_session=False)
    )
    indexed = ConversationIndex.conversation_id == ConversationIntent.conversation_id
    orphan = ~exists().where(indexed)
    session.execute(
        delete(ConversationIntent).where(orphan).execution_options(synchronize_session=False)
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


def newest_event_ids(session: Session, conversation_ids: Sequence[str]) -> dict[str, int]:
    """{conversation id: id of its newest event} for those of these conversations with events."""
    rows = session.execute(
        select(events_table.c.sender_id, func.max(events_table.c.id))
        .where(events_table.c.sender_id.in_(conversation_ids))
        .group_by(events_table.c.sender_id)
    )
    return {sender_id: last_id for sender_id, last_id in rows}


def indexed_event_ids(session: Session, conversation_ids: Sequence[str]) -> dict[str, int]:
    """{conversation id: indexed last_event_id} for those of these conversations with a row."""
    rows = session.execute(
        select(ConversationIndex.conversation_id, ConversationIndex.last_event_id).where(
            ConversationIndex.conversation_id.in_(conversation_ids)
        )
    )
    return {conversation_id: last_id for conversation_id, last_id in rows}


def newest_event_id(session: Session, conversation_id: str) -> int | None:
    """The id of a conversation's newest event, or None if it has none."""
    return newest_event_ids(session, [conversation_id]).get(conversation_id)


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def remove_rows(session: Session, conversation_ids: Sequence[str]) -> int:
    """Delete these conversations' index rows (their intent counts go with them)."""
    if not conversation_ids:
        return 0
    for table, column in (
        (ConversationIntent, ConversationIntent.conversation_id),
        (ConversationIndex, ConversationIndex.conversation_id),
    ):
        result = session.execute(
            delete(table)
            .where(column.in_(conversation_ids))
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def write_rows(
    session: Session, conversation_ids: Sequence[str], *, now: datetime | None = None
) -> None:
    """Summarise these conversations into rows and intent counts; alert new risk detections."""
    if not conversation_ids:
        return
    now = now or utcnow()
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
        alert_new_risk(session, row, stored, now)
    session.flush()
    replace_intents(session, {c: intent_counts(stored) for c, stored in events.items()})


def newest_detection(events: Sequence[StoredEvent]) -> StoredEvent | None:
    """The newest visitor event whose risk level is high or moderate (the numbers were given)."""
    for event in reversed(events):
        parse_data = event.data.get("parse_data") if event.type_name == "user" else None
        risk = stored_assessment(parse_data) if isinstance(parse_data, dict) else None
        if risk is not None and risk.alerting:
            return event
    return None


def alert_new_risk(
    session: Session, row: ConversationIndex, events: Sequence[StoredEvent], now: datetime
) -> bool:
    """Alert the team on duty to a detection newer than the row's last one; whether it did."""
    detection = newest_detection(events)
    alerted = row.risk_alerted_event_id
    if detection is None or (alerted is not None and detection.id <= alerted):
        return False
    row.risk_alerted_event_id = detection.id
    if detection.at < now - ALERT_WINDOW:
        return False
    alert_risk(session, detection.id, row.channel, detection.at, now)
    return True


def replace_intents(session: Session, counts: dict[str, Counter[str]]) -> None:
    """Replace the intent counts of these conversations."""
    session.execute(
        delete(ConversationIntent)
        .where(ConversationIntent.conversation_id.in_(list(counts)))
        .execution_options(synchronize_session=False)
    )
    rows = [
        {"conversation_id": conversation_id, "intent": intent, "messages": messages}
        for conversation_id, counter in counts.items()
        for intent, messages in counter.items()
    ]
    if rows:
        session.execute(insert(ConversationIntent), rows)


def intent_counts(events: Sequence[StoredEvent]) -> Counter[str]:
    """How many visitor messages got each predicted intent (messages without one are left out)."""
    names = (
        ((event.data.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in events
        if event.type_name == "user"
    )
    return Counter(str(name)[:255] for name in names if name)


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
