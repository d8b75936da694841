"""Booking the intro call: one transaction from a chosen time to a confirmed booking and email."""

from collections.abc import Callable
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
        queue_cancellation(session, old, lead)
    lead.status = "booked"
    queue_confirmation(session, booking, lead)
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
        queue_cancellation(session, booking, session.get(Lead, booking.lead_id))
    return booking


def queue_confirmation(session: Session, booking: Booking, lead: Lead) -> None:
    """Queue the confirmation email with its calendar invite (email leads only)."""
    body = (
        f"Hi {lead.name},\n\nYour free 15-minute intro call is booked for {when(booking)}.\n"
        f"Your reference is {booking.reference}. To move or cancel it, reply to this email "
        "or tell the assistant on our website.\n\nPilot Rock Medical Navigators"
    )
    subject = f"Your free intro call with Pilot Rock: {when(booking)}"
    _queue(session, booking, lead, "booking_confirmation", subject, body, booking_invite)


def queue_cancellation(session: Session, booking: Booking, lead: Lead | None) -> None:
    """Queue the cancellation email and calendar update (email leads only)."""
    if lead is None:
        return
    body = (
        f"Hi {lead.name},\n\nYour intro call on {when(booking)} (reference "
        f"{booking.reference}) is cancelled. You can book a new time on our website any "
        "time.\n\nPilot Rock Medical Navigators"
    )
    subject = f"Cancelled: your Pilot Rock intro call on {when(booking)}"
    _queue(session, booking, lead, "booking_cancellation", subject, body, cancellation_invite)


def _queue(
    session: Session,
    booking: Booking,
    lead: Lead,
    kind: str,
    subject: str,
    body: str,
    invite: Callable[..., bytes],
) -> None:
    """Put one email with its calendar attachment in the outbox, if the lead gave an email."""
    if not lead.email:
        return
    navigator = session.get(Navigator, booking.navigator_id)
    calendar = invite(
        booking.reference,
        booking.starts_at,
        booking.ends_at,
        navigator.email,
        lead.email,
        lead.name,
    )
    enqueue_message(
        session,
        kind=kind,
        recipient=lead.email,
        subject=subject,
        body_text=body,
        booking_id=booking.id,
        attachment_name=INVITE_NAME,
        attachment=calendar.decode(),
    )
