"""Rows the inbox reads, written directly: index entries and handoffs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db.handoffs import Handoff
from bot.db.reviews import ConversationIndex
from tests.support.conversations import T0


def index_row(conversation_id: str, at: datetime, **columns: Any) -> ConversationIndex:
    """The index row of a conversation that started and last spoke at `at` (`columns` add to it)."""
    columns = {"channel": "rest", "last_event_id": 1} | columns
    return ConversationIndex(conversation_id=conversation_id, started_at=at, last_at=at, **columns)


def handoff_row(
    conversation_id: str, status: str, claimed_by_id: int | None = None, at: datetime = T0
) -> Handoff:
    """A handoff row as bot.handoff.state leaves it in `status`, requested (and claimed) `at`."""
    claimed = status != "waiting"
    return Handoff(
        conversation_id=conversation_id,
        channel="rest",
        status=status,
        requested_by="visitor",
        requested_at=at,
        staff_messages=0,
        claimed_by_id=claimed_by_id if claimed else None,
        claimed_at=at if claimed else None,
        closed_at=at if status == "closed" else None,
        outcome="handed_back" if status == "closed" else None,
    )
