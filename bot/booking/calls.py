"""Booking the intro call: one transaction from a chosen time to a confirmed booking and email."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking import availability
from bot.booking.invites import booking_invite, cancellation_invite
from bot.booking.scheduling import Slot, format_slot
from bot.db.models import Booking, Lead, Navigator
from bot.db.repository import (
    SlotTaken,
    cancel_booking,
    create_booking,
    enqueue_message,
)

INVITE_NAME = "pilot-rock-intro-call.ics"


@dataclass(frozen=True)
class CallEmail:
    """An email about a booked call, sent with its calendar update (email leads only)."""

    kind: str  # the outbox message's kind
    subject: str  # a format string of {when}
    body: str  # a format string of {name}, {when} and {reference}
    invite: Callable[..., bytes]  # the calendar attachment: bot.booking.invites


CONFIRMATION = CallEmail(
    "booking_confirmation",
    "Your free intro call with Pilot Rock: {when}",
    "Hi {name},\n\nYour free 15-minute intro call is booked for {when}.\nYour reference is "
    "{reference}. To move or cancel it, reply to this email or tell the assistant on our "
    "website.\n\nPilot Rock Medical Navigators",
    booking_invite,
)
CANCELLATION = CallEmail(
    "booking_cancellation",
    "Cancelled: your Pilot Rock intro call on {when}",
    "Hi {name},\n\nYour intro call on {when} (reference {reference}) is cancelled. You can "
    "book a new time on our website any time.\n\nPilot Rock Medical Navigators",
    cancellation_invite,
)


def when(booking: Booking, tz: str | None = None) -> str:
    """The booked time in the visitor's zone, e.g. 'Tue 3 Dec, 10:15 AM EST'."""
    return format_slot(
        Slot(booking.navigator_id, booking.starts_at, booking.ends_at),
        tz or booking.visitor_timezone,
    )


def book(
    session: Session,
    lead: Lead,
    start: datetime,
    now: datetime,
    replace_reference: str | None = None,
) -> Booking:
    """Book the free slot at `start`, replacing a moved booking (raises SlotTaken if gone).

    The old booking is cancelled first so its own time and buffer do not block the new one;
    if the new time has gone, the caller's rollback keeps the old booking. Asking again for a
    time the lead already holds returns that booking: a retried request (the first reply was
    lost to a failure) never books twice, and the visitor is told about the booking that exists.
    """
    held = held_booking(session, lead, start)
    if held is not None:
        return held
    old = cancel_booking(session, replace_reference) if replace_reference else None
    slot = availability.free_at(session, start, now)
    if slot is None:
        raise SlotTaken(f"no free navigator at {start.isoformat()}")
    booking = create_booking(
        session, lead.id, slot.navigator_id, slot.start, slot.end, lead.timezone
    )
    if old is not None:
        queue_email(session, old, lead, CANCELLATION)
    lead.status = "booked"
    queue_email(session, booking, lead, CONFIRMATION)
    return booking


def held_booking(session: Session, lead: Lead, start: datetime) -> Booking | None:
    """The lead's confirmed booking starting at `start`, if any."""
    return session.scalar(
        select(Booking).where(
            Booking.lead_id == lead.id, Booking.status == "confirmed", Booking.starts_at == start
        )
    )


def cancel(session: Session, reference: str) -> Booking | None:
    """Cancel a confirmed booking and tell the visitor by email; None if none matches."""
    booking = cancel_booking(session, reference)
    if booking is not None:
        queue_email(session, booking, session.get(Lead, booking.lead_id), CANCELLATION)
    return booking


def queue_email(session: Session, booking: Booking, lead: Lead | None, email: CallEmail) -> None:
    """Put one email with its calendar attachment in the outbox, if the lead gave an email."""
    if lead is None or not lead.email:
        return
    navigator, moment = session.get(Navigator, booking.navigator_id), when(booking)
    calendar = email.invite(
        booking.reference,
        booking.starts_at,
        booking.ends_at,
        navigator.email,
        lead.email,
        lead.name,
    )
    enqueue_message(
        session,
        kind=email.kind,
        recipient=lead.email,
        subject=email.subject.format(when=moment),
        body_text=email.body.format(name=lead.name, when=moment, reference=booking.reference),
        booking_id=booking.id,
        attachment_name=INVITE_NAME,
        attachment=calendar.decode(),
    )
