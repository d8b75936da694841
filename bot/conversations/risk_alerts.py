"""Emails (through the outbox) to navigators on duty: a visitor may be in danger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.booking.availability import navigators_on_duty
from bot.core.settings import get_settings
from bot.db.repository import enqueue_message

RISK_KIND = "risk_alert"
RISK_SUBJECT = "A visitor may be in danger: please check the chat now"


def risk_link(event_id: int) -> str:
    """The staff app's page of a flagged message: it opens its conversation (no id in the link)."""
    return f"{get_settings().staff_url}/events/{event_id}"


def risk_body(channel: str, detected_at: datetime, link: str) -> str:
    """The risk alert's text: where and when, and the link; no visitor text, no kind of risk."""
    return (
        "A visitor may be in danger: the assistant has given them the emergency numbers.\n\n"
        f"Channel: {channel}\n"
        f"Detected at: {detected_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"Open the conversation in the staff app (and join it while the visitor is there):\n"
        f"{link}\n"
    )


def alert_risk(
    session: Session, event_id: int, channel: str, detected_at: datetime, now: datetime
) -> int:
    """Queue one risk alert per navigator on duty at `now` for the visitor event `event_id`."""
    text = risk_body(channel, detected_at, risk_link(event_id))
    navigators = navigators_on_duty(session, now)
    for navigator in navigators:
        enqueue_message(
            session, kind=RISK_KIND, recipient=navigator.email, subject=RISK_SUBJECT, body_text=text
        )
    return len(navigators)
