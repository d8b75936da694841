"""Drive the index consumer in tests: what a running `python -m bot run-indexer` would have done."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.index import IndexChange, conversions, intent_counts
from bot.conversations.summary import summarise
from bot.db.reviews import ConversationIndex, ConversationIntent
from bot.db.session import make_engine
from bot.indexer.events_table import tail_pass
from bot.rasa.events import ensure_events_table, events_table, load_events


def index_pending(target: str | Session, limit: int = 500) -> IndexChange:
    """Run the embedded consumer's passes over the events table until it has caught up.

    A URL: on its own engine, each pass committed. A Session: in that session, each pass
    committed (as the consumer commits each pass).
    """
    if isinstance(target, Session):
        return _catch_up(target, limit)
    engine = make_engine(target)
    try:
        with Session(engine, future=True, expire_on_commit=False) as session:
            return _catch_up(session, limit)
    finally:
        engine.dispose()


def _catch_up(session: Session, limit: int) -> IndexChange:
    """Passes until one reads no event; the sum of their changes."""
    total = IndexChange()
    while True:
        done = tail_pass(session, limit)
        session.commit()
        total.add(done.change)
        if not done.events and not done.rewound:
            return total


def index_differences(session: Session) -> list[str]:
    """How the index differs from what the trackers' events say it should hold (empty: none).

    Each conversation's expected row is its summary (bot.conversations.summary, with its leads
    and bookings) and its intent counts, computed here straight from its stored events. Ends the
    session's transaction, so that a SQLite writer (Rasa's tracker store) is not kept waiting.
    """
    ensure_events_table(session)
    session.expire_all()
    conversation_ids = set(session.scalars(select(events_table.c.sender_id).distinct()))
    rows = {row.conversation_id: row for row in session.scalars(select(ConversationIndex))}
    problems = [f"{c}: indexed without events" for c in sorted(set(rows) - conversation_ids)]
    leads, booked = conversions(session, sorted(conversation_ids))
    for conversation_id in sorted(conversation_ids):
        events = load_events(session, conversation_id)
        row = rows.get(conversation_id)
        if row is None:
            problems.append(f"{conversation_id}: not indexed")
            continue
        summary = summarise(events, lead=conversation_id in leads, booked=conversation_id in booked)
        expected = {
            **asdict(summary),
            "channel": summary.channel[:32],
            "last_event_id": events[-1].id,
        }
        actual = {name: getattr(row, name) for name in expected}
        if actual != expected:
            changed = sorted(k for k in expected if actual[k] != expected[k])
            problems.append(f"{conversation_id}: {', '.join(changed)} differ")
        if stored_intents(session, conversation_id) != dict(intent_counts(events)):
            problems.append(f"{conversation_id}: intent counts differ")
    session.commit()
    return problems


def stored_intents(session: Session, conversation_id: str) -> dict[str, int]:
    """The intent counts the index holds for one conversation."""
    rows = session.execute(
        select(ConversationIntent.intent, ConversationIntent.messages).where(
            ConversationIntent.conversation_id == conversation_id
        )
    )
    return dict(rows.all())
