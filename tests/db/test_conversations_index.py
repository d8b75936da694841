"""The conversation index over Rasa's events table, on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.conversations.index import refresh_index
from bot.db.models import Booking
from bot.db.reviews import ConversationIndex
from bot.rasa.events import events_table, load_events
from tests.support.conversations import (
    assessment_conversation,
    at,
    booked_conversation,
    emergency_conversation,
    follow_up,
    write_conversation,
    write_three,
)
from tests.support.team import lead_and_navigator


def index_rows(session: Session) -> dict[str, ConversationIndex]:
    """Every index row by conversation id, freshly read."""
    session.expire_all()
    return {row.conversation_id: row for row in session.scalars(select(ConversationIndex))}


def test_refresh_indexes_each_conversation(migrated_url: str, session: Session) -> None:
    write_three(migrated_url)
    assert refresh_index(session) == 3
    session.commit()
    rows = index_rows(session)
    booked = rows["c-booked"]
    stored = load_events(session, "c-booked")
    assert booked.last_event_id == stored[-1].id
    assert (booked.started_at, booked.last_at) == (stored[0].at, stored[-1].at)
    assert (booked.channel, booked.outcome, booked.recommendation) == ("socketio", "booked", "both")
    assert booked.user_messages == 13
    assert not (booked.emergency or booked.fallback or booked.human_requested)
    emergency = rows["c-emergency"]
    assert emergency.emergency and emergency.outcome == "none" and emergency.channel == "rest"
    assert emergency.started_at - at(day=1) < timedelta(minutes=1)
    assert "crushing chest pain" in emergency.search_text
    fallback = rows["c-fallback"]
    assert fallback.fallback and fallback.low_confidence and fallback.channel == "telegram"


def test_refresh_reads_only_changed_conversations(migrated_url: str, session: Session) -> None:
    write_conversation(migrated_url, "c-one", assessment_conversation())
    write_conversation(migrated_url, "c-two", emergency_conversation())
    refresh_index(session)
    session.commit()
    assert refresh_index(session) == 0
    # A marker only a re-read would overwrite: c-two must not be re-read below.
    session.execute(update(ConversationIndex).values(search_text="untouched"))
    session.commit()
    write_conversation(
        migrated_url,
        "c-one",
        follow_up(start=at(hour=1), text="What does it cost?", intent="ask_cost"),
    )
    assert refresh_index(session) == 1
    session.commit()
    rows = index_rows(session)
    assert rows["c-one"].user_messages == 8
    assert "what does it cost?" in rows["c-one"].search_text
    assert rows["c-one"].last_at > at(hour=1)
    assert rows["c-one"].last_event_id == load_events(session, "c-one")[-1].id
    assert rows["c-two"].search_text == "untouched"


def test_refresh_drops_erased_conversations(migrated_url: str, session: Session) -> None:
    write_conversation(migrated_url, "c-keep", assessment_conversation())
    write_conversation(migrated_url, "c-erase", emergency_conversation())
    refresh_index(session)
    session.commit()
    session.execute(delete(events_table).where(events_table.c.sender_id == "c-erase"))
    session.commit()
    assert refresh_index(session) == 1
    session.commit()
    assert set(index_rows(session)) == {"c-keep"}


def test_outcome_follows_leads_and_bookings(migrated_url: str, session: Session) -> None:
    write_conversation(migrated_url, "c-1", assessment_conversation())
    refresh_index(session)
    session.commit()
    assert index_rows(session)["c-1"].outcome == "recommendation"
    lead, navigator = lead_and_navigator(session, "c-1", "America/Denver")
    assert refresh_index(session, recheck=["c-1", "c-missing"]) == 1
    session.commit()
    assert index_rows(session)["c-1"].outcome == "lead"
    starts = at(day=2)
    booking = Booking(
        reference="PR-ABCD23",
        lead_id=lead.id,
        navigator_id=navigator.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=15),
        visitor_timezone="America/Denver",
        active_start=starts,
    )
    session.add(booking)
    session.commit()
    refresh_index(session, recheck=["c-1"])
    session.commit()
    assert index_rows(session)["c-1"].outcome == "booked"
    booking.status, booking.active_start = "cancelled", None
    session.commit()
    refresh_index(session, recheck=["c-1"])
    session.commit()
    assert index_rows(session)["c-1"].outcome == "lead"


def test_refresh_without_an_events_table(session: Session) -> None:
    assert refresh_index(session) == 0
    session.commit()
    assert index_rows(session) == {}


def test_session_writes_match_rasas_tracker_store(migrated_url: str, session: Session) -> None:
    events = booked_conversation()
    write_conversation(migrated_url, "via-rasa", events)
    write_conversation(session, "via-session", events)
    session.commit()
    columns = [
        events_table.c[name]
        for name in ("type_name", "timestamp", "intent_name", "action_name", "data")
    ]

    def rows(sender: str) -> list[tuple]:
        query = select(*columns).where(events_table.c.sender_id == sender)
        return [tuple(r) for r in session.execute(query.order_by(events_table.c.id))]

    assert len(rows("via-rasa")) == len(events)
    assert rows("via-rasa") == rows("via-session")


def test_a_new_session_appended_through_rasas_store(migrated_url: str, session: Session) -> None:
    write_conversation(migrated_url, "c-1", emergency_conversation())
    later = follow_up(start=at(day=1), text="I'm safe now, thank you", new_session=True)
    assert write_conversation(migrated_url, "c-1", later) == len(later)
    refresh_index(session)
    session.commit()
    stored = load_events(session, "c-1")
    assert [e.type_name for e in stored].count("session_started") == 2
    row = index_rows(session)["c-1"]
    assert (row.user_messages, row.emergency, row.last_event_id) == (3, True, stored[-1].id)
    assert row.last_at > at(day=1)
