"""What a visitor leaves in the project's tables besides Rasa's events, and counting it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bot.db.models import Booking, CallbackRequest, Lead, Navigator, OutboxMessage, utcnow
from bot.db.repository import create_booking, create_callback_request, create_lead, enqueue_message
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

SUMMARY = "My mother's cancer treatment plan"
NAME = "Sam Rivera"


def email_of(conversation_id: str) -> str:
    """The visitor's address in a conversation (unique, so rows can be told apart)."""
    return f"{conversation_id}@example.com"


def add_navigator(session: Session) -> int:
    """A navigator to book calls with; its id."""
    navigator = Navigator(name="Dr. Ada Park", email="ada@example.org", timezone="America/Denver")
    session.add(navigator)
    session.flush()
    return navigator.id


def add_lead(
    session: Session,
    conversation_id: str,
    *,
    navigator_id: int,
    created_at: datetime | None = None,
    booked: bool = True,
) -> Lead:
    """A consenting lead of the conversation; with `booked`, a call and its queued email."""
    created_at = created_at or utcnow()
    lead = create_lead(
        session,
        name=NAME,
        email=email_of(conversation_id),
        timezone="America/Denver",
        summary=SUMMARY,
        consent=True,
        channel="rest",
        conversation_id=conversation_id,
        created_at=created_at,
        status="booked" if booked else "new",
    )
    if booked:
        starts = created_at.replace(minute=0, second=0, microsecond=0) + timedelta(
            days=2, hours=lead.id
        )
        booking = create_booking(
            session, lead.id, navigator_id, starts, starts + timedelta(minutes=15), "America/Denver"
        )
        enqueue_message(
            session,
            kind="booking_confirmation",
            recipient=lead.email,
            subject="Your intro call",
            body_text=f"Hello {NAME}",
            booking_id=booking.id,
        )
    return lead


def add_staff_rows(session: Session, conversation_id: str) -> None:
    """A callback request, index entry, review, tag, note, annotation, answer and risk label of
    the conversation (and, for a Telegram chat id, two received updates)."""
    now = utcnow()
    create_callback_request(
        session, conversation_id=conversation_id, channel="rest", contact=email_of(conversation_id)
    )
    session.add_all(
        [
            ConversationIndex(
                conversation_id=conversation_id,
                channel="rest",
                started_at=now,
                last_at=now,
                last_event_id=1,
                user_messages=3,
                outcome="booked",
                search_text=SUMMARY,
            ),
            ConversationReview(conversation_id=conversation_id, status="reviewed", reviewed_at=now),
            ConversationTag(conversation_id=conversation_id, tag="follow-up"),
            ConversationNote(conversation_id=conversation_id, body=f"{NAME}: {SUMMARY}"),
            Annotation(
                conversation_id=conversation_id,
                event_id=1,
                text=SUMMARY,
                predicted_intent="inform",
                corrected_intent="situation_caregiver",
            ),
            AnswerAnnotation(
                conversation_id=conversation_id,
                event_id=1,
                question="support",
                text=SUMMARY,
                predicted_value="none",
                value="alone",
            ),
            RiskAnnotation(
                conversation_id=conversation_id,
                event_id=1,
                text=SUMMARY,
                predicted_label="none",
                predicted_score=0.12,
                label="crisis",
            ),
        ]
    )
    if conversation_id.isdigit():  # a Telegram chat: the updates its messages came in
        chat_id = int(conversation_id)
        session.add_all(
            TelegramUpdate(update_id=chat_id * 10 + n, chat_id=chat_id, received_at=now)
            for n in range(2)
        )
    session.flush()


def rows_of(session: Session, conversation_id: str) -> dict[str, int]:
    """How many rows of each table belong to the conversation (outbox: by recipient)."""
    leads = select(Lead.id).where(Lead.conversation_id == conversation_id)
    counts = {
        "leads": count(session, Lead, Lead.conversation_id == conversation_id),
        "bookings": count(session, Booking, Booking.lead_id.in_(leads)),
        "outbox_messages": count(
            session, OutboxMessage, OutboxMessage.recipient == email_of(conversation_id)
        ),
    }
    for model in (
        CallbackRequest,
        ConversationIndex,
        ConversationReview,
        ConversationTag,
        ConversationNote,
        Annotation,
        AnswerAnnotation,
        RiskAnnotation,
    ):
        counts[model.__tablename__] = count(
            session, model, model.conversation_id == conversation_id
        )
    chat = int(conversation_id) if conversation_id.isdigit() else None
    counts["telegram_updates"] = count(session, TelegramUpdate, TelegramUpdate.chat_id == chat)
    has_events = inspect(session.connection()).has_table("events")
    where = events_table.c.sender_id == conversation_id
    counts["events"] = count(session, events_table, where) if has_events else 0
    return counts


def count(session: Session, model: Any, where: Any) -> int:
    """Rows of `model` (a model or a table) matching `where`."""
    return session.scalar(select(func.count()).select_from(model).where(where))
