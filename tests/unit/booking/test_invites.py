"""The .ics invitations parse back with icalendar and carry the right iTIP fields."""

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.booking.invites import booking_invite, cancellation_invite, event_uid
from bot.mail.mailer import build_message

REFERENCE = "PR-7KQ4M2"
STARTS = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("America/Denver"))  # 16:00 UTC
ENDS = STARTS + timedelta(minutes=15)
STAMP = datetime(2030, 3, 1, 12, 30, tzinfo=timezone.utc)
ARGS = (REFERENCE, STARTS, ENDS, "calls@pilotrock.example", "sam@example.com", "Sam Rivera")


def parse(data: bytes) -> tuple[Calendar, Calendar]:
    """The calendar and its one event."""
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_request_has_method_uid_times_and_participants() -> None:
    data = booking_invite(*ARGS, stamp=STAMP)
    calendar, event = parse(data)

    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert "PRODID" in calendar
    assert event["UID"] == f"{REFERENCE}@intake.pilotrock" == event_uid(REFERENCE)
    assert event["SUMMARY"] == "Pilot Rock intro call (15 min)"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert event["ORGANIZER"] == "mailto:calls@pilotrock.example"
    attendee = event["ATTENDEE"]
    assert attendee == "mailto:sam@example.com"
    assert attendee.params["CN"] == "Sam Rivera"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_times_are_written_in_utc() -> None:
    data = booking_invite(*ARGS, stamp=STAMP)
    _, event = parse(data)

    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2030, 3, 4, 16, 0, tzinfo=timezone.utc)
    assert end - start == timedelta(minutes=15)
    assert start.utcoffset() == timedelta(0)
    assert b"DTSTART:20300304T160000Z\r\n" in data
    assert b"DTEND:20300304T161500Z\r\n" in data
    assert b"TZID" not in data


def test_description_has_the_reference_and_no_health_details() -> None:
    _, event = parse(booking_invite(*ARGS, summary="Intro call", stamp=STAMP))

    text = str(event["DESCRIPTION"])
    assert REFERENCE in text
    for word in ("diagnos", "cancer", "symptom", "treatment", "condition", "Sam Rivera"):
        assert word.lower() not in text.lower()
    assert event["SUMMARY"] == "Intro call"
    assert event["CLASS"] == "PRIVATE"


def test_cancellation_keeps_the_uid_and_bumps_the_sequence() -> None:
    _, request = parse(booking_invite(*ARGS, stamp=STAMP))
    calendar, cancel = parse(cancellation_invite(*ARGS, stamp=STAMP + timedelta(days=1)))

    assert calendar["METHOD"] == "CANCEL"
    assert cancel["UID"] == request["UID"]
    assert cancel["SEQUENCE"] > request["SEQUENCE"]
    assert cancel["STATUS"] == "CANCELLED"
    assert cancel.decoded("DTSTART") == request.decoded("DTSTART")
    assert cancel["ATTENDEE"] == "mailto:sam@example.com"
    assert "RSVP" not in cancel["ATTENDEE"].params


def test_uid_is_stable_across_calls_and_reference_spelling() -> None:
    first = parse(booking_invite(*ARGS))[1]["UID"]
    again = parse(booking_invite("pr-7kq4m2", *ARGS[1:]))[1]["UID"]
    assert first == again


def test_output_is_crlf_folded_icalendar() -> None:
    data = booking_invite(*ARGS[:5], "A very long name " * 8)
    lines = data.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in lines)


def test_names_are_escaped_not_injected() -> None:
    _, event = parse(
        booking_invite(
            REFERENCE, STARTS, ENDS, "calls@pilotrock.example", "a@b.example", 'X"\nY;Z:'
        )
    )
    assert event["ATTENDEE"].params["CN"] == 'X"\nY;Z:'
    assert event["ATTENDEE"] == "mailto:a@b.example"


@pytest.mark.parametrize(
    ("starts", "ends", "attendee"),
    [
        (STARTS.replace(tzinfo=None), ENDS, "sam@example.com"),
        (STARTS, STARTS, "sam@example.com"),
        (ENDS, STARTS, "sam@example.com"),
        (STARTS, ENDS, "sam@example.com\r\nX-EVIL:1"),
        (STARTS, ENDS, ""),
    ],
)
def test_bad_input_is_refused(starts: datetime, ends: datetime, attendee: str) -> None:
    with pytest.raises(ValueError):
        booking_invite(REFERENCE, starts, ends, "calls@pilotrock.example", attendee, "Sam")


@pytest.mark.parametrize(
    ("make", "method"), [(booking_invite, "REQUEST"), (cancellation_invite, "CANCEL")]
)
def test_email_attaches_the_invite_as_text_calendar(
    make: Callable[..., bytes], method: str
) -> None:
    ics = make(*ARGS, stamp=STAMP)
    message = build_message(
        "calls@pilotrock.example", "sam@example.com", "Your intro call", "See you.", "call.ics", ics
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)

    assert parsed["To"] == "sam@example.com"
    assert parsed["Subject"] == "Your intro call"
    assert parsed.get_body(("plain",)).get_content().strip() == "See you."
    [part] = list(parsed.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == method
    assert part.get_filename() == "call.ics"
    assert part.get_payload(decode=True) == ics
