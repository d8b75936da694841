"""Dashboard figures for a period: the funnel, the recommendation split, fallbacks, intents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Join

from bot.conversations.events import ensure_events_table, events_table
from bot.conversations.inbox import RECOMMENDATIONS, day_start
from bot.conversations.summary import FALLBACK_INTENT
from bot.db.reviews import ConversationIndex

TOP_INTENTS = 10
MAX_DAYS = 3660


@dataclass(frozen=True)
class Dashboard:
    """Figures for the conversations that started between `start` and `end` (UTC days)."""

    start: date
    end: date
    funnel: list[tuple[str, int]]
    recommendations: dict[str, int]
    visitor_messages: int
    fallback_messages: int
    top_intents: list[tuple[str, int]]

    @property
    def fallback_rate(self) -> float:
        """Share of visitor messages the NLU could not place (0.0 without messages)."""
        return self.fallback_messages / self.visitor_messages if self.visitor_messages else 0.0


def dashboard(session: Session, start: date, end: date) -> Dashboard:
    """The dashboard for conversations started from `start` to `end` inclusive (UTC days).

    Reads the conversation index (refresh it first) and Rasa's events of those conversations.
    """
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()})")
    if (end - start).days > MAX_DAYS:
        raise ValueError(f"the period is limited to {MAX_DAYS} days")
    ensure_events_table(session)
    in_period = and_(
        ConversationIndex.started_at >= day_start(start),
        ConversationIndex.started_at < day_start(end + timedelta(days=1)),
    )
    visitor, fallback = message_counts(session, in_period)
    return Dashboard(
        start=start,
        end=end,
        funnel=funnel(session, in_period),
        recommendations=recommendation_split(session, in_period),
        visitor_messages=visitor,
        fallback_messages=fallback,
        top_intents=top_intents(session, in_period),
    )


def count_where(condition: ColumnElement) -> ColumnElement:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def funnel(session: Session, in_period: ColumnElement) -> list[tuple[str, int]]:
    """Conversations → assessed (got a recommendation) → leads → booked, in one query."""
    index = ConversationIndex
    row = session.execute(
        select(
            func.count(),
            func.count(index.recommendation),
            count_where(index.outcome.in_(("lead", "booked"))),
            count_where(index.outcome == "booked"),
        ).where(in_period)
    ).one()
    labels = ("Conversations", "Assessed", "Leads", "Booked")
    return [(label, int(value or 0)) for label, value in zip(labels, row, strict=True)]


def recommendation_split(session: Session, in_period: ColumnElement) -> dict[str, int]:
    """How many conversations got each recommendation (every kind listed, zeros included)."""
    rows = session.execute(
        select(ConversationIndex.recommendation, func.count())
        .where(in_period, ConversationIndex.recommendation.is_not(None))
        .group_by(ConversationIndex.recommendation)
    )
    counts = dict.fromkeys(RECOMMENDATIONS, 0)
    for kind, count in rows:
        if kind in counts:
            counts[kind] = count
    return counts


def period_messages(in_period: ColumnElement) -> tuple[Join, ColumnElement]:
    """The FROM clause: visitor-message events of the conversations in the period."""
    joined = events_table.join(
        ConversationIndex.__table__,
        ConversationIndex.conversation_id == events_table.c.sender_id,
    )
    return joined, and_(in_period, events_table.c.type_name == "user")


def message_counts(session: Session, in_period: ColumnElement) -> tuple[int, int]:
    """(visitor messages, fallback visitor messages) in the period's conversations."""
    joined, where = period_messages(in_period)
    row = session.execute(
        select(func.count(), count_where(events_table.c.intent_name == FALLBACK_INTENT))
        .select_from(joined)
        .where(where)
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def top_intents(session: Session, in_period: ColumnElement) -> list[tuple[str, int]]:
    """The most frequent predicted intents of visitor messages, most frequent first."""
    joined, where = period_messages(in_period)
    count = func.count().label("n")
    rows = session.execute(
        select(events_table.c.intent_name, count)
        .select_from(joined)
        .where(where, events_table.c.intent_name.is_not(None))
        .group_by(events_table.c.intent_name)
        .order_by(count.desc(), events_table.c.intent_name)
        .limit(TOP_INTENTS)
    )
    return [(name, int(n)) for name, n in rows]
