"""Models and repository on SQLite and PostgreSQL: round trips, references, double booking."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import repository
from bot.db.models import (
    Booking,
    CallbackRequest,
    DateOverride,
    Lead,
    Navigator,
    OutboxMessage,
    TimeOff,
    WeeklyHours,
)
from bot.db.repository import (
    REFERENCE_PATTERN,
    SlotTaken,
    bookings_between,
    cancel_booking,
    create_booking,
    create_callback_request,
    create_lead,
    enqueue_message,
    find_booking,
)
from bot.db.session import session_factory, session_scope

SLOT = datetime(2030, 3, 4, 15, 0, tzinfo=timezone.utc)
CALL = timedelta(minutes=15)
THREADS = 20


def book(session: Session, ids: tuple[int, int], starts_at: datetime = SLOT) -> Booking:
    """Book the fixture's navigator for the fixture's lead."""
    navigator_id, lead_id = ids
    return create_booking(session, lead_id, navigator_id, starts_at, starts_at + CALL, "UTC")


def assert_utc(moment: datetime | None) -> None:
    """The value is an aware datetime in UTC."""
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


def test_lead_round_trip(make_session: sessionmaker) -> None:
    """Every lead field survives a commit and a fresh session; datetimes come back UTC."""
    with make_session() as session:
        lead = create_lead(
            session,
            name="Ana Lima",
            email="ana@example.com",
            phone="+14155550123",
            timezone="America/Sao_Paulo",
            summary="Wants her father's treatment plan checked.",
            consent=True,
            recommendation="second_opinion",
            situation="verify_treatment",
            channel="socketio",
            conversation_id="conv-42",
            warmth_score=7,
            warmth_reasons=["asked about cost", "booked intent"],
        )
        session.commit()
        lead_id = lead.id
    with make_session() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert (lead.name, lead.phone, lead.timezone) == (
            "Ana Lima",
            "+14155550123",
            "America/Sao_Paulo",
        )
        assert lead.warmth_reasons == ["asked about cost", "booked intent"]
        assert lead.consent is True
        assert lead.status == "new"
        assert_utc(lead.created_at)
        assert_utc(lead.consent_at)
        assert abs(datetime.now(timezone.utc) - lead.created_at) < timedelta(minutes=1)
        found = session.scalars(select(Lead).where(Lead.conversation_id == "conv-42")).one()
        assert found.id == lead_id


def test_lead_defaults_and_nullable_fields(session: Session) -> None:
    """A minimal lead gets its defaults and leaves optional fields empty."""
    lead = create_lead(
        session, name="Kim", timezone="Asia/Seoul", channel="telegram", conversation_id="c"
    )
    session.commit()
    session.expire_all()
    assert (lead.email, lead.phone, lead.summary, lead.consent_at) == (None, None, None, None)
    assert (lead.consent, lead.warmth_score, lead.warmth_reasons) == (False, 0, [])


@pytest.mark.parametrize(
    ("field", "value"), [("phone", "415-555-0123"), ("phone", "+0123"), ("timezone", "Mars/Base")]
)
def test_lead_validation(field: str, value: str) -> None:
    """Phone numbers must be E.164 and time zones IANA names."""
    fields = {"name": "X", "timezone": "UTC", "channel": "rest", "conversation_id": "c"}
    with pytest.raises(ValueError, match=field.replace("timezone", "time zone")):
        Lead(**{**fields, field: value})


def test_booking_round_trip_keeps_the_instant_in_utc(
    session: Session, ids: tuple[int, int]
) -> None:
    """A start given in another zone is stored and read back as the same instant in UTC."""
    local = datetime(2030, 3, 4, 8, 0, tzinfo=ZoneInfo("America/Denver"))
    booking = book(session, ids, local)
    session.commit()
    session.expire_all()
    stored = session.get(Booking, booking.id)
    assert stored is not None
    assert stored.starts_at == local
    assert stored.starts_at == SLOT
    assert stored.starts_at.tzinfo == timezone.utc
    assert stored.active_start == SLOT
    for moment in (stored.starts_at, stored.ends_at, stored.created_at, stored.active_start):
        assert_utc(moment)
    assert stored.status == "confirmed"
    assert stored.cancelled_at is None
    assert stored.lead.name == "Sam Rivera"
    assert stored.navigator.timezone == "America/Denver"


def test_naive_datetimes_are_refused(session: Session, ids: tuple[int, int]) -> None:
    """A naive datetime has no instant: the repository and the column type refuse it."""
    with pytest.raises(ValueError, match="naive"):
        book(session, ids, SLOT.replace(tzinfo=None))
    session.add(TimeOff(navigator_id=ids[0], starts_at=datetime(2030, 1, 1), ends_at=SLOT))
    with pytest.raises(StatementError, match="naive"):
        session.flush()


def test_booking_references_are_readable_and_unique(session: Session, ids: tuple[int, int]) -> None:
    """References look like PR-7KQ4M2, avoid ambiguous characters and are all different."""
    bookings = [book(session, ids, SLOT + i * CALL) for i in range(60)]
    session.commit()
    references = {booking.reference for booking in bookings}
    assert len(references) == 60
    for reference in references:
        assert REFERENCE_PATTERN.match(reference), reference
        assert not set(reference[3:]) & set("01ILOU")
    sample = bookings[0].reference
    typed = f"  {sample[:2].lower()} {sample[3:].lower()} "
    assert find_booking(session, typed) is bookings[0]
    assert find_booking(session, "PR-XXXXXX") is None


def test_reference_unique_in_the_database(session: Session, ids: tuple[int, int]) -> None:
    """The database itself refuses a second booking with the same reference."""
    first = book(session, ids)
    session.commit()
    session.add(
        Booking(
            reference=first.reference,
            lead_id=ids[1],
            navigator_id=ids[0],
            starts_at=SLOT + CALL,
            ends_at=SLOT + 2 * CALL,
            visitor_timezone="UTC",
            status="confirmed",
            active_start=SLOT + CALL,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_reference_collision_draws_another(
    session: Session, ids: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a drawn reference is already used, create_booking quietly draws a new one."""
    first = book(session, ids)
    session.commit()
    draws = iter([first.reference, "PR-22222Z"])
    monkeypatch.setattr(repository, "new_reference", lambda: next(draws))
    second = book(session, ids, SLOT + CALL)
    session.commit()
    assert second.reference == "PR-22222Z"


def test_double_booking_raises_slot_taken(session: Session, ids: tuple[int, int]) -> None:
    """The same navigator and start cannot be booked twice, even given in another zone."""
    first = book(session, ids)
    session.commit()
    with pytest.raises(SlotTaken):
        book(session, ids)
    with pytest.raises(SlotTaken):
        book(session, ids, SLOT.astimezone(ZoneInfo("Asia/Kolkata")))
    later = book(session, ids, SLOT + CALL)  # the session is still usable
    session.commit()
    confirmed = bookings_between(session, SLOT, SLOT + 2 * CALL)
    assert [booking.id for booking in confirmed] == [first.id, later.id]


def test_slot_taken_within_one_uncommitted_transaction(
    session: Session, ids: tuple[int, int]
) -> None:
    """A clash with a booking not yet committed rolls back only the failed attempt."""
    first = book(session, ids)
    with pytest.raises(SlotTaken):
        book(session, ids)
    session.commit()
    assert find_booking(session, first.reference) is first


def test_other_navigator_same_start_is_fine(session: Session, ids: tuple[int, int]) -> None:
    """Only the same navigator is blocked at a start time."""
    other = Navigator(name="Dr. Lee", email="lee@example.org", timezone="Europe/London")
    session.add(other)
    session.flush()
    book(session, ids)
    book(session, (other.id, ids[1]))
    session.commit()
    assert len(bookings_between(session, SLOT, SLOT + CALL)) == 2


def test_cancelled_slot_can_be_booked_again(session: Session, ids: tuple[int, int]) -> None:
    """Cancelling frees the slot; several cancelled bookings of one slot can coexist."""
    first = book(session, ids)
    session.commit()
    cancelled = cancel_booking(session, first.reference.lower())
    session.commit()
    assert cancelled is first
    assert (first.status, first.active_start) == ("cancelled", None)
    assert_utc(first.cancelled_at)
    second = book(session, ids)
    session.commit()
    cancel_booking(session, second.reference)
    third = book(session, ids)
    session.commit()
    assert [b.id for b in bookings_between(session, SLOT, SLOT + CALL)] == [third.id]
    statuses = session.scalars(select(Booking.status).order_by(Booking.id)).all()
    assert statuses == ["cancelled", "cancelled", "confirmed"]


def test_cancel_is_idempotent_and_unknown_is_none(session: Session, ids: tuple[int, int]) -> None:
    """Cancelling twice keeps the first cancellation; an unknown reference gives None."""
    booking = book(session, ids)
    session.commit()
    cancel_booking(session, booking.reference)
    session.commit()
    cancelled_at = booking.cancelled_at
    assert cancel_booking(session, booking.reference) is booking
    assert booking.cancelled_at == cancelled_at
    assert cancel_booking(session, "PR-ZZZZZZ") is None


def test_status_and_active_start_must_agree(session: Session, ids: tuple[int, int]) -> None:
    """The database refuses a cancelled booking that still holds its slot."""
    booking = book(session, ids)
    session.commit()
    booking.status = "cancelled"
    with pytest.raises(IntegrityError):
        session.flush()


def test_bookings_between_returns_overlapping_confirmed(
    session: Session, ids: tuple[int, int]
) -> None:
    """Overlap with [start, end), confirmed only, earliest first, optionally per navigator."""
    early, middle, late = (book(session, ids, SLOT + i * CALL) for i in (0, 2, 4))
    cancel_booking(session, middle.reference)
    session.commit()
    window = bookings_between(session, SLOT + CALL / 2, SLOT + 4 * CALL)
    assert window == [early]
    assert bookings_between(session, SLOT, SLOT + 5 * CALL, navigator_id=ids[0]) == [early, late]
    assert bookings_between(session, SLOT, SLOT + 5 * CALL, navigator_id=ids[0] + 99) == []


def test_unknown_lead_is_an_integrity_error_not_slot_taken(
    session: Session, ids: tuple[int, int]
) -> None:
    """Foreign keys are enforced (on SQLite too) and not mistaken for a taken slot."""
    with pytest.raises(IntegrityError):
        create_booking(session, 9999, ids[0], SLOT, SLOT + CALL, "UTC")


def test_twenty_concurrent_bookings_of_one_slot(
    make_session: sessionmaker, ids: tuple[int, int]
) -> None:
    """20 threads, each with its own session, race for one slot: one wins, 19 get SlotTaken."""
    start = threading.Barrier(THREADS)

    def attempt(_: int) -> str:
        """Book the slot in a fresh session; report the reference or `taken`."""
        with make_session() as session:
            start.wait(timeout=30)
            try:
                booking = book(session, ids)
                session.commit()
            except SlotTaken:
                session.rollback()
                return "taken"
            return booking.reference

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(attempt, range(THREADS)))
    assert outcomes.count("taken") == THREADS - 1
    with make_session() as session:
        rows = session.scalars(select(Booking)).all()
        assert len(rows) == 1
        assert rows[0].reference in outcomes


def test_weekly_hours_check_constraint(session: Session, ids: tuple[int, int]) -> None:
    """Weekly hours must start before they end, on a weekday 0-6."""
    session.add(WeeklyHours(navigator_id=ids[0], weekday=0, start_time=time(9), end_time=time(17)))
    session.commit()
    for bad in (
        WeeklyHours(navigator_id=ids[0], weekday=1, start_time=time(17), end_time=time(9)),
        WeeklyHours(navigator_id=ids[0], weekday=2, start_time=time(9), end_time=time(9)),
        WeeklyHours(navigator_id=ids[0], weekday=7, start_time=time(9), end_time=time(17)),
    ):
        session.add(bad)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    hours = session.scalars(select(WeeklyHours)).one()
    assert (hours.weekday, hours.start_time, hours.end_time) == (0, time(9), time(17))


def test_date_overrides_and_time_off(session: Session, ids: tuple[int, int]) -> None:
    """Overrides are closed (no times) or a proper interval; time off round-trips in UTC."""
    session.add_all(
        [
            DateOverride(navigator_id=ids[0], date=date(2030, 12, 25)),
            DateOverride(
                navigator_id=ids[0], date=date(2030, 12, 24), start_time=time(9), end_time=time(12)
            ),
            TimeOff(navigator_id=ids[0], starts_at=SLOT, ends_at=SLOT + timedelta(days=2)),
        ]
    )
    session.commit()
    closed = session.scalars(select(DateOverride).where(DateOverride.start_time.is_(None))).one()
    assert closed.date == date(2030, 12, 25)
    session.expire_all()
    assert_utc(session.scalars(select(TimeOff)).one().ends_at)
    session.add(DateOverride(navigator_id=ids[0], date=date(2030, 12, 26), start_time=time(9)))
    with pytest.raises(IntegrityError):
        session.flush()


def test_outbox_and_callback_requests(session: Session, ids: tuple[int, int]) -> None:
    """Messages queue as pending with an attachment; callbacks start open."""
    booking = book(session, ids)
    message = enqueue_message(
        session,
        kind="booking_confirmation",
        recipient="sam@example.com",
        subject="Your intro call",
        body_text="See you then.",
        booking_id=booking.id,
        attachment_name="intro-call.ics",
        attachment="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )
    request = create_callback_request(session, conversation_id="conv-1", channel="rest")
    session.commit()
    session.expire_all()
    stored = session.get(OutboxMessage, message.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.sent_at) == ("pending", 0, None)
    assert stored.attachment == "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert_utc(stored.next_attempt_at)
    assert stored.booking_id == booking.id
    callback = session.get(CallbackRequest, request.id)
    assert callback is not None
    assert (callback.status, callback.contact, callback.note) == ("open", None, None)
    assert_utc(callback.created_at)


def test_session_scope_commits_and_rolls_back(migrated_url: str) -> None:
    """session_scope commits on success and rolls back on error; factories are cached."""
    assert session_factory(migrated_url) is session_factory(migrated_url)
    fields = {"name": "A", "timezone": "UTC", "channel": "rest"}
    with session_scope(migrated_url) as session:
        create_lead(session, conversation_id="kept", **fields)
    with pytest.raises(RuntimeError), session_scope(migrated_url) as session:
        create_lead(session, conversation_id="dropped", **fields)
        raise RuntimeError("boom")
    with session_scope(migrated_url) as session:
        kept = session.scalars(select(Lead.conversation_id)).all()
    assert kept == ["kept"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_connections_are_configured(database_url: str, engine: Engine) -> None:
    """SQLite: parent folder created, WAL, busy timeout and foreign keys on every connection."""
    assert Path(make_url(database_url).database).exists()
    with engine.connect() as connection:
        pragmas = [
            connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        ]
    assert pragmas == ["wal", 5000, 1]
