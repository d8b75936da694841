"""A staff member joins a conversation, writes to the visitor and hands it back.

Database and visitor are changed in an order that loses nothing: a claim is committed before
the bot is paused (so two navigators cannot both join) and undone if the pause fails; a staff
message and a hand-back are recorded only once Rasa has accepted them. Audit entries carry ids
only, never message text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db import audit
from bot.db.handoffs import Handoff
from bot.db.staff import StaffUser
from bot.handoff import notices, state
from bot.handoff.conversation import Conversation, ConversationUnavailableError, staff_event
from bot.handoff.state import HandoffError
from bot.rasa.events import last_visitor_message

MAX_MESSAGE = 1000
HANDBACK_ACTION = "action_handback"
Opener = Callable[[str], Conversation]


class TakeoverError(ValueError):
    """A takeover step refused or failed; the text is shown to the staff member."""


def actor_of(user: StaffUser) -> str:
    """A staff member as an audit actor."""
    return f"staff:{user.username}"


def channel_if_live(db: Session, conversation_id: str, now: datetime, live: timedelta) -> str:
    """The visitor's channel, if they wrote within `live`; otherwise why it cannot be joined."""
    latest = last_visitor_message(db, conversation_id)
    if latest is None:
        raise TakeoverError("The visitor has not written anything in this conversation.")
    if latest.at < now - live:
        minutes = int(live.total_seconds() // 60)
        raise TakeoverError(
            f"The visitor has not written for over {minutes} minutes, so they may have left. "
            "Follow up by their contact details or the callback list instead."
        )
    return latest.data.get("input_channel") or "unknown"


def join(
    db: Session,
    open_conversation: Opener,
    conversation_id: str,
    user: StaffUser,
    now: datetime,
    live: timedelta,
) -> Handoff:
    """Claim the conversation's request (or open one for a live conversation) and pause the bot."""
    handoff, opened = state.open_handoff(db, conversation_id), False
    if handoff is None:
        channel = channel_if_live(db, conversation_id, now, live)
        handoff, opened = state.request(db, conversation_id, channel, staff_id=user.id, now=now)
    try:
        state.claim(db, handoff, user.id, now)
    except HandoffError as error:
        raise TakeoverError(str(error)) from error
    db.commit()
    try:
        speak(
            db,
            open_conversation,
            conversation_id,
            lambda c: c.pause(
                staff_event(notices.joined(user.display_name), "joined", user.display_name, user.id)
            ),
        )
    except TakeoverError:
        if opened:  # nobody asked: leave no request behind for the watcher to answer
            state.close(db, handoff, "cancelled", now=now)
        else:
            state.release_claim(db, handoff)
        db.commit()
        raise
    record(db, user, "handoff_claim", handoff)
    return handoff


def clean_message(text: str) -> str:
    """A staff message as sent: trimmed, non-empty, at most MAX_MESSAGE characters."""
    text = (text or "").strip()
    if not text:
        raise TakeoverError("Write a message first.")
    if len(text) > MAX_MESSAGE:
        raise TakeoverError(
            f"Keep a message under {MAX_MESSAGE} characters (this one has {len(text)})."
        )
    if any(ord(char) < 32 and char not in "\n\t" for char in text):
        raise TakeoverError("The message holds control characters; retype it.")
    return text


def send(
    db: Session,
    open_conversation: Opener,
    conversation_id: str,
    user: StaffUser,
    text: str,
    now: datetime,
) -> Handoff:
    """Deliver one message from the staff member who holds the conversation."""
    message = clean_message(text)
    try:
        handoff = state.require_claimed_by(state.open_handoff(db, conversation_id), user.id)
    except HandoffError as error:
        raise TakeoverError(str(error)) from error
    speak(
        db,
        open_conversation,
        conversation_id,
        lambda c: c.say(staff_event(message, "staff_message", user.display_name, user.id)),
    )
    state.note_staff_message(db, handoff, now)
    record(db, user, "handoff_message", handoff)
    return handoff


def hand_back(
    db: Session,
    open_conversation: Opener,
    conversation_id: str,
    user: StaffUser,
    note: str,
    now: datetime,
    *,
    may_override: bool = False,
) -> Handoff:
    """Resume the bot, tell the visitor, let the assistant pick up; keep the note for staff."""
    handoff = state.open_handoff(db, conversation_id)
    if handoff is None or handoff.status != "claimed":
        raise TakeoverError(
            "Nobody has joined this conversation, so there is nothing to hand back."
        )
    if handoff.claimed_by_id != user.id and not may_override:
        raise TakeoverError("Another team member is in this conversation.")
    kept_note = (note or "").strip()[:2000] or None

    def resume(conversation: Conversation) -> None:
        conversation.resume(
            staff_event(
                notices.handed_back(user.display_name), "handed_back", user.display_name, user.id
            )
        )
        conversation.run_action(HANDBACK_ACTION)

    speak(db, open_conversation, conversation_id, resume)
    state.close(db, handoff, "handed_back", note=kept_note, now=now)
    record(db, user, "handoff_hand_back", handoff, note=bool(kept_note))
    return handoff


def record(db: Session, user: StaffUser, action: str, handoff: Handoff, **details: bool) -> None:
    """Audit one takeover step on the conversation (ids and flags only, never text)."""
    audit.record(
        db,
        actor=actor_of(user),
        action=action,
        target_type="conversation",
        target_id=handoff.conversation_id,
        details={"handoff_id": handoff.id, **details},
    )


def speak(
    db: Session,
    open_conversation: Opener,
    conversation_id: str,
    step: Callable[[Conversation], None],
) -> None:
    """Run one step against Rasa; a failure becomes a TakeoverError that says nothing was sent.

    The session's transaction ends first: on SQLite an open one holds the write lock that Rasa
    needs to store the events it is sent. Every step has only read, or committed, by then.
    """
    db.commit()
    conversation = open_conversation(conversation_id)
    try:
        step(conversation)
    except ConversationUnavailableError as error:
        raise TakeoverError(
            f"Nothing reached the visitor: {error}. Try again in a moment."
        ) from error
    finally:
        conversation.close()
