"""Time limits on takeovers: nobody claimed the request, or the navigator stopped replying.

Runs inside the outbox worker (one process in both profiles). Each overdue handoff gets the bot
back (resumed, if it was paused) and `action_handoff_fallback`, which apologises, queues a call
back and offers the booking. A handoff whose fallback cannot be delivered (Rasa away) stays open
and is tried again on the next pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.settings import Settings, get_settings
from bot.db import audit
from bot.db.handoffs import Handoff
from bot.db.models import utcnow
from bot.handoff import state
from bot.handoff.conversation import Conversation, ConversationUnavailableError

log = logging.getLogger("bot.handoff")
FALLBACK_ACTION = "action_handoff_fallback"
ACTOR = "system:handoff-watcher"
Opener = Callable[[str], Conversation]
SessionFactory = Callable[[], Session]


def limits(settings: Settings) -> dict[str, timedelta]:
    """The claim and reply limits from the settings."""
    return {
        "claim_within": timedelta(minutes=settings.handoff_claim_minutes),
        "reply_within": timedelta(minutes=settings.handoff_reply_minutes),
    }


def fall_back(
    db: Session, open_conversation: Opener, handoff: Handoff, outcome: str, now: datetime
) -> bool:
    """Give one overdue conversation back to the bot with a call-back offer; False if not done."""
    handoff_id, conversation_id, status = handoff.id, handoff.conversation_id, handoff.status
    db.commit()  # no transaction open while Rasa writes: on SQLite it would hold the write lock
    conversation = open_conversation(conversation_id)
    try:
        if status == "claimed":
            conversation.resume()
        if not state.close(db, handoff, outcome, now=now):
            db.rollback()
            return False
        db.commit()  # the fallback action reads the outcome from its own connection
        try:
            conversation.run_action(FALLBACK_ACTION)
        except ConversationUnavailableError:
            state.reopen(db, handoff, status)  # not delivered: the next pass tries again
            db.commit()
            raise
        audit.record(
            db,
            actor=ACTOR,
            action="handoff_fallback",
            target_type="conversation",
            target_id=conversation_id,
            details={"handoff_id": handoff_id},
        )
        db.commit()
        return True
    except ConversationUnavailableError as error:
        log.warning("handoff %d: fallback not delivered: %s", handoff_id, error)
        db.rollback()
        return False
    finally:
        conversation.close()


def apply_limits(
    sessions: SessionFactory,
    open_conversation: Opener,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> int:
    """Fall back every overdue handoff; how many were handed back to the bot."""
    moment = now or utcnow()
    with sessions() as db:
        due = state.overdue(db, moment, **limits(settings or get_settings()))
        return sum(
            fall_back(db, open_conversation, handoff, outcome, moment) for handoff, outcome in due
        )


def run_forever(sessions: SessionFactory, stop: threading.Event, interval: float = 10.0) -> None:
    """Apply the limits every `interval` seconds until `stop` is set (counts only in the log)."""
    settings = get_settings()

    def opener(conversation_id: str) -> Conversation:
        return Conversation(conversation_id, settings)

    while not stop.is_set():
        try:
            done = apply_limits(sessions, opener, settings=settings)
            if done:
                log.info("handoff limits: %d conversation(s) given back to the assistant", done)
        except Exception as error:  # the database or Rasa may be briefly away: next pass
            log.error("handoff limits pass failed: %s", type(error).__name__)
        stop.wait(interval)


def start(sessions: SessionFactory, stop: threading.Event) -> threading.Thread:
    """Run the limits in a daemon thread beside the outbox."""
    thread = threading.Thread(
        target=run_forever, args=(sessions, stop), name="handoff-limits", daemon=True
    )
    thread.start()
    return thread
