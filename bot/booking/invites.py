"""iCalendar (RFC 5545 / iTIP) invitations for intro calls: a request and its cancellation."""

from datetime import datetime, timezone
from functools import partial

from icalendar import Calendar, Event, vCalAddress, vText

UID_DOMAIN = "intake.pilotrock"
PRODID = "-//Pilot Rock Medical Navigators//Intake Assistant//EN"
ORGANIZER_NAME = "Pilot Rock Medical Navigators"
DEFAULT_SUMMARY = "Pilot Rock intro call (15 min)"


def event_uid(reference: str, domain: str = UID_DOMAIN) -> str:
    """The stable UID of a booking's event: the same for its request and its cancellation."""
    return f"{reference.strip().upper()}@{domain}"


def _invite(
    method: str,
    status: str,
    reference: str,
    starts_at: datetime,
    ends_at: datetime,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str,
    summary: str = DEFAULT_SUMMARY,
    *,
    sequence: int,
    stamp: datetime | None = None,
) -> bytes:
    """A one-event calendar of the call with iTIP `method` and the event's `status`."""
    event = _event(reference, starts_at, ends_at, summary, sequence, stamp)
    return _calendar(method, status, event, organizer_email, attendee_email, attendee_name)


# Both take `_invite`'s arguments after `status`: a call's request and its cancellation share
# the UID, and the cancellation's SEQUENCE is higher.
booking_invite = partial(_invite, "REQUEST", "CONFIRMED", sequence=0)
"""A METHOD:REQUEST calendar that invites the visitor to the booked call."""
cancellation_invite = partial(_invite, "CANCEL", "CANCELLED", sequence=1)
"""A METHOD:CANCEL calendar that withdraws the call (same UID, higher SEQUENCE)."""


def description(reference: str) -> str:
    """The event's text: what the call is and its reference, never anything about health."""
    return (
        "Your free 15-minute intro call with a Pilot Rock physician navigator.\n"
        f"Booking reference: {reference}\n"
        "To change or cancel the call, reply to the confirmation email and quote the reference."
    )


def _event(
    reference: str,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    sequence: int,
    stamp: datetime | None,
) -> Event:
    """The VEVENT's identity, times and texts; all times are written in UTC."""
    start, end = _utc(starts_at), _utc(ends_at)
    if start >= end:
        raise ValueError("the call must end after it starts")
    event = Event()
    event.add("uid", event_uid(reference))
    event.add("dtstamp", _utc(stamp or datetime.now(timezone.utc)))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("description", description(reference))
    event.add("class", "PRIVATE")
    event.add("transp", "OPAQUE")
    return event


def _calendar(
    method: str,
    status: str,
    event: Event,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str,
) -> bytes:
    """Add status and participants to `event` and serialize it in a one-event VCALENDAR."""
    event.add("status", status)
    event.add("organizer", _address(organizer_email, ORGANIZER_NAME), encode=False)
    attendee = _address(attendee_email, attendee_name)
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    if method == "REQUEST":
        attendee.params.update({"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    event.add("attendee", attendee, encode=False)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    return calendar.to_ical()


def _address(email: str, name: str) -> vCalAddress:
    """A `mailto:` calendar address with a common name (no spaces or controls in the email)."""
    email = email.strip()
    if not email or any(char.isspace() or not char.isprintable() for char in email):
        raise ValueError("an email address must not be empty or hold spaces or control characters")
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    return address


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive datetimes are refused because their instant is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return moment.astimezone(timezone.utc)
