"""Booking, moving and cancelling through bot.booking.calls, with the emails they queue."""

from datetime import datetime, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.booking import availability
from bot.booking import calls as booking
from bot.db.migrate import upgrade
from bot.db.models import Booking, Lead, OutboxMessage
from bot.db.repository import SlotTaken, create_lead, find_booking
from bot.db.session import session_scope

NOW = datetime(2030, 1, 7, 12, 0, tzinfo=timezone.utc)  # a Monday, 07:00 in New York


@pytest.fixture
def lead_id(database_url: str) -> int:
    upgrade(database_url)
    with session_scope(database_url) as session:
        availability.seed_if_empty(session)
        lead = create_lead(
            session,
            name="Maria Lopez",
            email="maria@example.com",
            timezone="America/Chicago",
            consent=True,
            channel="rest",
            conversation_id="c1",
            warmth_score=60,
            warmth_reasons=[],
        )
        return lead.id


def test_book_move_and_cancel_queue_the_right_emails(database_url: str, lead_id: int) -> None:
    with session_scope(database_url) as session:
        first, second = availability.offer(session, NOW, count=2)
        lead = session.get(Lead, lead_id)
        made = booking.book(session, lead, first.start, NOW)
        reference = made.reference
    with session_scope(database_url) as session:
        lead = session.get(Lead, lead_id)
        moved = booking.book(session, lead, second.start, NOW, replace_reference=reference)
        assert booking.when(moved) == "Mon 7 Jan, 8:15 AM CST"
        assert booking.cancel(session, moved.reference) is not None
    with session_scope(database_url) as session:
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        kinds = [m.kind for m in messages]
        assert kinds == [
            "booking_confirmation",
            "booking_cancellation",
            "booking_confirmation",
            "booking_cancellation",
        ]
        assert all(m.recipient == "maria@example.com" and m.status == "pending" for m in messages)
        invite = Calendar.from_ical(messages[0].attachment)
        assert invite["METHOD"] == "REQUEST"
        assert "diagnos" not in messages[0].body_text.lower()
        assert Calendar.from_ical(messages[1].attachment)["METHOD"] == "CANCEL"
        assert session.get(Lead, lead_id).status == "booked"


def test_a_failed_move_keeps_the_old_booking(database_url: str, lead_id: int) -> None:
    with session_scope(database_url) as session:
        (slot,) = availability.offer(session, NOW, count=1)
        reference = booking.book(session, session.get(Lead, lead_id), slot.start, NOW).reference
    past = datetime(2030, 1, 7, 3, 0, tzinfo=timezone.utc)  # not a bookable time
    with pytest.raises(SlotTaken), session_scope(database_url) as session:
        booking.book(session, session.get(Lead, lead_id), past, NOW, replace_reference=reference)
    with session_scope(database_url) as session:
        assert find_booking(session, reference).status == "confirmed"


def other_lead(session, n: int) -> Lead:
    return create_lead(
        session,
        name=f"Visitor {n}",
        email=f"v{n}@example.com",
        timezone="America/Chicago",
        consent=True,
        channel="rest",
        conversation_id=f"c{n + 1}",
        warmth_score=60,
        warmth_reasons=[],
    )


def test_a_taken_time_raises(database_url: str, lead_id: int) -> None:
    with session_scope(database_url) as session:
        (slot,) = availability.offer(session, NOW, count=1)
        for n, _ in enumerate(availability.free_navigators(session, slot.start, NOW)):
            booking.book(session, other_lead(session, n), slot.start, NOW)
    with session_scope(database_url) as session, pytest.raises(SlotTaken):
        booking.book(session, session.get(Lead, lead_id), slot.start, NOW)


def test_booking_the_same_time_again_returns_the_held_booking(
    database_url: str, lead_id: int
) -> None:
    # A retried request after a lost reply must not book twice nor report the time as taken.
    with session_scope(database_url) as session:
        (slot,) = availability.offer(session, NOW, count=1)
        first = booking.book(session, session.get(Lead, lead_id), slot.start, NOW).reference
    with session_scope(database_url) as session:
        again = booking.book(session, session.get(Lead, lead_id), slot.start, NOW).reference
    with session_scope(database_url) as session:
        kinds = session.scalars(select(OutboxMessage.kind)).all()
        held = session.scalars(select(Booking.reference).where(Booking.lead_id == lead_id)).all()
    assert again == first
    assert held == [first]
    assert kinds == ["booking_confirmation"]


def test_moving_a_booking_offers_its_own_time_and_neighbours(
    database_url: str, lead_id: int
) -> None:
    with session_scope(database_url) as session:
        (first,) = availability.offer(session, NOW, count=1)
        references = [
            booking.book(session, session.get(Lead, lead_id), first.start, NOW).reference
            for _ in availability.free_navigators(session, first.start, NOW)
        ]
    with session_scope(database_url) as session:
        blocked = [s.start for s in availability.offer(session, NOW, count=3)]
        moving = [s.start for s in availability.offer(session, NOW, count=3, moving=references[0])]
        unknown = [s.start for s in availability.offer(session, NOW, count=3, moving="PR-NONE00")]
    assert first.start not in blocked  # every navigator is booked then, buffers hide 15 minutes
    assert moving[0] == first.start and moving[0] < blocked[0]
    assert unknown == blocked
