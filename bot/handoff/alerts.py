"""Emails (through the outbox) to navigators on duty: a visitor wants a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.booking.availability import navigators_on_duty
from bot.core.settings import get_settings
from bot.db.handoffs import Handoff
from bot.db.repository import enqueue_message

KIND = "handoff_request"
SUBJECT = "A visitor is waiting for a navigator in the chat"


def body(handoff: Handoff, link: str) -> str:
    """The email text: where to claim it; no health details (email is not a private medium)."""
    return (
        "A visitor has asked to talk with a person.\n\n"
        f"Channel: {handoff.channel}\n"
        f"Asked at: {handoff.requested_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"Join the conversation in the staff app:\n{link}\n\n"
        "If nobody joins in time, the assistant offers a call back instead.\n"
    )


def alert_on_duty(session: Session, handoff: Handoff, now: datetime) -> int:
    """Queue one email per navigator on duty at `now`; how many were queued."""
    link = f"{get_settings().staff_url}/handoffs"
    navigators = navigators_on_duty(session, now)
    for navigator in navigators:
        enqueue_message(
            session,
            kind=KIND,
            recipient=navigator.email,
            subject=SUBJECT,
            body_text=body(handoff, link),
        )
    return len(navigators)
