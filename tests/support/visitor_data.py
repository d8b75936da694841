"""What a visitor leaves in the project's tables besides Rasa's events, and counting it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.orm import Session

from bot.db import reviews
from bot.db.handoffs import Handoff
from bot.db.models import Base, Booking, Lead, Navigator, OutboxMessage, utcnow
from bot.db.repository import create_booking, create_callback_request, create_lead, enqueue_message
from bot.db.telegram import TelegramUpdate
from bot.rasa.events import events_table
from tests.support.inbox_rows import index_row

SUMMARY = "My mother's cancer treatment plan"
NAME = "Sam Rivera"
# Tables with a conversation_id that rows_of does not count: leads (counted on their own, with
# their bookings), intents (they go with their index row, by cascade) and Rasa's locks.
NOT_COUNTED = {"leads", "conversation_locks", "conversation_intents"}


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
    """A callback request, index entry, review, tag, note, annotation, answer and risk label and a
    closed live takeover with its note (and, for a Telegram chat id, two received updates)."""
    now = utcnow()
    labelled = {"conversation_id": conversation_id, "event_id": 1, "text": SUMMARY}  # a message
    create_callback_request(
        session, conversation_id=conversation_id, channel="rest", contact=email_of(conversation_id)
    )
    session.add_all(
        [
            index_row(conversation_id, now, user_messages=3, outcome="booked", search_text=SUMMARY),
            reviews.ConversationReview(
                conversation_id=conversation_id, status="reviewed", reviewed_at=now
            ),
            reviews.ConversationTag(conversation_id=conversation_id, tag="follow-up"),
            reviews.ConversationNote(conversation_id=conversation_id, body=f"{NAME}: {SUMMARY}"),
            reviews.Annotation(
                **labelled, predicted_intent="inform", corrected_intent="situation_caregiver"
            ),
            reviews.AnswerAnnotation(
                **labelled, question="support", predicted_value="none", value="alone"
            ),
            reviews.RiskAnnotation(
                **labelled, predicted_label="none", predicted_score=0.12, label="crisis"
            ),
            Handoff(
                conversation_id=conversation_id,
                channel="rest",
                status="closed",
                note=f"{NAME} spoke about {SUMMARY}",
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
    for table in conversation_tables():
        counts[table.name] = count(session, table, table.c.conversation_id == conversation_id)
    chat = int(conversation_id) if conversation_id.isdigit() else None
    counts["telegram_updates"] = count(session, TelegramUpdate, TelegramUpdate.chat_id == chat)
    has_events = inspect(session.connection()).has_table("events")
    where = events_table.c.sender_id == conversation_id
    counts["events"] = count(session, events_table, where) if has_events else 0
    return counts


def conversation_tables() -> list[Table]:
    """Every table with a `conversation_id` column but those in NOT_COUNTED."""
    return [
        table
        for table in Base.metadata.sorted_tables
        if "conversation_id" in table.c and table.name not in NOT_COUNTED
    ]


def count(session: Session, model: Any, where: Any) -> int:
    """Rows of `model` (a model or a table) matching `where`."""
    return session.scalar(select(func.count()).select_from(model).where(where))
