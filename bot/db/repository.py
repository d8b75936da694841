"""Small typed queries shared by the chat actions and the staff app."""

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Booking, CallbackRequest, Lead, OutboxMessage, utcnow

REFERENCE_PREFIX = "PR-"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
REFERENCE_LENGTH = 6
REFERENCE_PATTERN = re.compile(rf"^PR-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$")
REFERENCE_ATTEMPTS = 5


class SlotTaken(Exception):  # noqa: N818 (the name the actions use)
    """The navigator already has a confirmed booking starting at that time."""


def new_reference() -> str:
    """A random booking reference such as `PR-7KQ4M2`, easy to read out and type."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return REFERENCE_PREFIX + code


def normalize_reference(text: str) -> str:
    """Canonical form of a reference as a visitor types it (`pr 7kq4m2` -> `PR-7KQ4M2`)."""
    code = re.sub(r"[\s\-_]", "", text).upper()
    return REFERENCE_PREFIX + code.removeprefix("PR")


def create_lead(session: Session, **fields: Any) -> Lead:
    """Add a lead; consent given without a time is stamped now."""
    if fields.get("consent") and fields.get("consent_at") is None:
        fields["consent_at"] = utcnow()
    lead = Lead(**fields)
    session.add(lead)
    session.flush()
    return lead


def create_booking(
    session: Session,
    lead_id: int,
    navigator_id: int,
    starts_at: datetime,
    ends_at: datetime,
    visitor_timezone: str,
) -> Booking:
    """Book a confirmed call, or raise SlotTaken if the navigator is taken at `starts_at`."""
    _require_aware(starts_at, ends_at)
    if starts_at >= ends_at:
        raise ValueError("a booking must end after it starts")
    for _ in range(REFERENCE_ATTEMPTS):
        booking = Booking(
            reference=new_reference(),
            lead_id=lead_id,
            navigator_id=navigator_id,
            starts_at=starts_at,
            ends_at=ends_at,
            visitor_timezone=visitor_timezone,
            status="confirmed",
            active_start=starts_at,
        )
        try:
            with session.begin_nested():
                session.add(booking)
        except IntegrityError as error:
            if _slot_is_taken(session, navigator_id, starts_at):
                raise SlotTaken(f"navigator {navigator_id} is booked at {starts_at}") from error
            if find_booking(session, booking.reference) is None:
                raise
            continue  # the random reference collided: draw another
        return booking
    raise RuntimeError("could not draw an unused booking reference")


def cancel_booking(session: Session, reference: str) -> Booking | None:
    """Cancel a booking and free its slot; None if no booking has that reference."""
    booking = find_booking(session, reference)
    if booking is None or booking.status == "cancelled":
        return booking
    booking.status = "cancelled"
    booking.cancelled_at = utcnow()
    booking.active_start = None
    session.flush()
    return booking


def find_booking(session: Session, reference: str) -> Booking | None:
    """The booking with this reference (as typed by a visitor), if any."""
    query = select(Booking).where(Booking.reference == normalize_reference(reference))
    return session.scalars(query).one_or_none()


def bookings_between(
    session: Session, start: datetime, end: datetime, navigator_id: int | None = None
) -> list[Booking]:
    """Confirmed bookings overlapping [start, end), earliest first."""
    _require_aware(start, end)
    query = select(Booking).where(
        Booking.status == "confirmed", Booking.starts_at < end, Booking.ends_at > start
    )
    if navigator_id is not None:
        query = query.where(Booking.navigator_id == navigator_id)
    return list(session.scalars(query.order_by(Booking.starts_at, Booking.id)))


def enqueue_message(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    booking_id: int | None = None,
    attachment_name: str | None = None,
    attachment: str | None = None,
    send_after: datetime | None = None,
) -> OutboxMessage:
    """Queue a message for the outbox worker (sent after the surrounding commit)."""
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        booking_id=booking_id,
        attachment_name=attachment_name,
        attachment=attachment,
        status="pending",
        attempts=0,
        next_attempt_at=send_after or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def create_callback_request(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    contact: str | None = None,
    note: str | None = None,
) -> CallbackRequest:
    """Record that a visitor wants a person to contact them."""
    request = CallbackRequest(
        conversation_id=conversation_id, channel=channel, contact=contact, note=note
    )
    session.add(request)
    session.flush()
    return request


def callback_requests_of(session: Session, conversation_id: str) -> list[CallbackRequest]:
    """A conversation's callback requests, oldest first."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.conversation_id == conversation_id)
        .order_by(CallbackRequest.created_at)
    )
    return list(session.scalars(query))


def _slot_is_taken(session: Session, navigator_id: int, starts_at: datetime) -> bool:
    """Whether a confirmed booking holds this navigator's start time."""
    query = select(Booking.id).where(
        Booking.navigator_id == navigator_id, Booking.active_start == starts_at
    )
    return session.scalars(query).first() is not None


def _require_aware(*moments: datetime) -> None:
    """Raise ValueError for naive datetimes (their instant is unknown)."""
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
