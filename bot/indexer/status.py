"""The index's state for operators: counts only, no conversation ids."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.conversations.index import changed_conversations
from bot.db.reviews import ConversationIndex
from bot.indexer.events_table import checkpoint, newest_id
from bot.rasa.events import ensure_events_table, events_table


def index_status(session: Session) -> dict[str, int]:
    """Rows, conversations behind their events, rows left without events, the table feed's place.

    The index matches the trackers when both `behind` and `without_events` are 0.
    """
    ensure_events_table(session)
    has_events = exists().where(events_table.c.sender_id == ConversationIndex.conversation_id)
    count = select(func.count()).select_from(ConversationIndex)
    return {
        "indexed": session.scalar(count) or 0,
        "behind": len(changed_conversations(session)),
        "without_events": session.scalar(count.where(~has_events)) or 0,
        "newest_event_id": newest_id(session),
        "events_table_checkpoint": checkpoint(session)[0],
    }
