"""Dashboard figures for a period: the funnel, the recommendation split, fallbacks, intents.

Every figure comes from the conversation index and its intent counts, which the index consumer
(`bot.indexer`) keeps up to date; nothing here reads Rasa's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.conversations.inbox import RECOMMENDATIONS, day_start
from bot.conversations.summary import FALLBACK_INTENT
from bot.db.reviews import ConversationIndex, ConversationIntent

TOP_INTENTS = 10
OF_INDEXED = ConversationIndex.conversation_id == ConversationIntent.conversation_id
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

    Reads the conversation index and its intent counts as the consumer last left them.
    """
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()})")
    if (end - start).days > MAX_DAYS:
        raise ValueError(f"the period is limited to {MAX_DAYS} days")
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


def message_counts(session: Session, in_period: ColumnElement) -> tuple[int, int]:
    """(visitor messages, fallback visitor messages) in the period's conversations."""
    visitor = session.scalar(
        select(func.coalesce(func.sum(ConversationIndex.user_messages), 0)).where(in_period)
    )
    fallback = session.scalar(
        select(func.coalesce(func.sum(ConversationIntent.messages), 0))
        .join(ConversationIndex, OF_INDEXED)
        .where(in_period, ConversationIntent.intent == FALLBACK_INTENT)
    )
    return int(visitor or 0), int(fallback or 0)


def top_intents(session: Session, in_period: ColumnElement) -> list[tuple[str, int]]:
    """The most frequent predicted intents of visitor messages, most frequent first."""
    count = func.sum(ConversationIntent.messages).label("n")
    rows = session.execute(
        select(ConversationIntent.intent, count)
        .join(ConversationIndex, OF_INDEXED)
        .where(in_period)
        .group_by(ConversationIntent.intent)
        .order_by(count.desc(), ConversationIntent.intent)
        .limit(TOP_INTENTS)
    )
    return [(name, int(n)) for name, n in rows]
