"""End to end: from a recommendation to a booked intro call, then moving and cancelling it."""

import json
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from bot.booking import availability
from bot.db.session import session_scope
from tests.support.servers import Servers

pytestmark = pytest.mark.e2e


def text_of(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons", [])]


def slot_buttons(replies: list[dict]) -> list[dict]:
    return [b for b in buttons(replies) if "slot_choice" in b["payload"]]


def query(servers: Servers, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(servers.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(sql, args).fetchall()


def fill_lead_form(servers: Servers, sender: str, first: str) -> list[dict]:
    """Answer the lead questions; returns the replies offering times."""
    replies = servers.send(sender, first, metadata={"timezone": "America/Chicago"})
    assert "name" in text_of(replies)
    servers.send(sender, "I'm Maria Lopez")
    replies = servers.send(sender, "it's maria.lopez@example.com")
    assert "one line" in text_of(replies)  # time zone came from the browser's metadata
    servers.send(sender, "second opinion for my mum's surgery")
    return servers.send(sender, "/affirm")


def test_from_recommendation_to_booking(servers: Servers) -> None:
    sender = f"book-{uuid.uuid4().hex[:10]}"
    assert "911" in text_of(servers.send(sender, "hi there"))
    servers.send(sender, "help me decide")
    for payload in (
        '{"scope": "bounded"}',
        '{"decisions": "one_time"}',
        '{"need": "answer"}',
        '{"support": "has_support"}',
    ):
        replies = servers.send(sender, f"/inform{payload}")
    assert "/book_call" in [b["payload"] for b in buttons(replies)]
    offer = fill_lead_form(servers, sender, "/book_call")
    first_page = slot_buttons(offer)
    assert len(first_page) == 6 and first_page[-1]["title"] == "Later times"
    assert all(("CST" in b["title"] or "CDT" in b["title"]) for b in first_page[:-1])
    later = slot_buttons(servers.send(sender, first_page[-1]["payload"]))
    assert {b["payload"] for b in later[:-1]}.isdisjoint({b["payload"] for b in first_page})
    replies = servers.send(sender, later[0]["payload"])
    slots = servers.tracker(sender)["slots"]
    reference = slots["booking_id"]
    assert reference and reference.startswith("PR-")
    assert reference in text_of(replies) and later[0]["title"] in text_of(replies)
    chosen = json.loads(later[0]["payload"].removeprefix("/inform"))["slot_choice"]
    rows = query(
        servers,
        "SELECT b.status, l.name, l.email, l.timezone, l.recommendation, "
        "l.consent, l.channel, l.warmth_score FROM bookings b JOIN leads l "
        "ON l.id = b.lead_id WHERE b.reference = ?",
        reference,
    )
    assert rows == [
        (
            "confirmed",
            "Maria Lopez",
            "maria.lopez@example.com",
            "America/Chicago",
            "second_opinion",
            1,
            "rest",
            70,
        )
    ]
    outbox = query(
        servers,
        "SELECT kind, recipient, o.status FROM outbox_messages o "
        "JOIN bookings b ON b.id = o.booking_id WHERE b.reference = ?",
        reference,
    )
    assert outbox == [("booking_confirmation", "maria.lopez@example.com", "pending")]
    ((starts_at,),) = query(
        servers, "SELECT starts_at FROM bookings WHERE reference = ?", reference
    )
    stored = datetime.fromisoformat(starts_at).replace(tzinfo=timezone.utc)
    assert stored == datetime.fromisoformat(chosen)


def test_cancel_by_reference_frees_the_slot(servers: Servers) -> None:
    sender = f"cancel-{uuid.uuid4().hex[:10]}"
    offer = fill_lead_form(servers, sender, "I'd like to book the free call")
    choice = slot_buttons(offer)[0]
    servers.send(sender, choice["payload"])
    reference = servers.tracker(sender)["slots"]["booking_id"]

    other = f"cancel2-{uuid.uuid4().hex[:10]}"
    replies = servers.send(other, f"please cancel my booking {reference.lower()}")
    assert "email or phone number you booked with" in text_of(replies)  # another chat
    assert reference not in text_of(replies)
    assert servers.tracker(other)["slots"]["pending_change"] is None
    replies = servers.send(other, f"{reference} maria.lopez@example.com")
    assert reference in text_of(replies)  # now the confirmation question
    replies = servers.send(other, "/affirm")
    assert "cancelled" in text_of(replies)
    assert query(servers, "SELECT status FROM bookings WHERE reference = ?", reference) == [
        ("cancelled",)
    ]
    again = fill_lead_form(servers, f"again-{uuid.uuid4().hex[:8]}", "book a call")
    assert choice["payload"] in [b["payload"] for b in slot_buttons(again)]


def test_reschedule_moves_the_booking(servers: Servers) -> None:
    sender = f"move-{uuid.uuid4().hex[:10]}"
    offer = fill_lead_form(servers, sender, "book the intro call please")
    servers.send(sender, slot_buttons(offer)[0]["payload"])
    old = servers.tracker(sender)["slots"]["booking_id"]
    replies = servers.send(sender, "I need to reschedule my call")
    assert old in text_of(replies)
    replies = servers.send(sender, "/affirm")
    new_times = slot_buttons(replies)
    servers.send(sender, new_times[2]["payload"])
    new = servers.tracker(sender)["slots"]["booking_id"]
    assert new != old
    assert query(
        servers, "SELECT status FROM bookings WHERE reference IN (?, ?) ORDER BY id", old, new
    ) == [("cancelled",), ("confirmed",)]


def test_bad_contact_is_reasked_and_refused_consent_books_nothing(servers: Servers) -> None:
    sender = f"bad-{uuid.uuid4().hex[:10]}"
    servers.send(sender, "book a call")
    servers.send(sender, "Sam")
    replies = servers.send(sender, "you can reach me whenever")
    assert "doesn't look like an email" in text_of(replies)
    replies = servers.send(sender, "(415) 555-2671")
    assert "time zone" in text_of(replies)
    replies = servers.send(sender, "I'm near Chicago")
    assert servers.tracker(sender)["slots"]["lead_timezone"] == "America/Chicago"
    servers.send(sender, "skip")
    replies = servers.send(sender, "/deny")
    assert "won't book" in text_of(replies)
    assert query(servers, "SELECT COUNT(*) FROM leads WHERE conversation_id = ?", sender) == [(0,)]


def free_navigators_at(servers: Servers, start: datetime) -> int:
    """How many navigators are free at `start` right now (read from the database)."""
    with session_scope(servers.database_url) as session:
        return len(availability.free_navigators(session, start, datetime.now(timezone.utc)))


def confirmed_at(servers: Servers, start: datetime) -> list[int]:
    """Navigator ids of the confirmed bookings starting at `start`."""
    with session_scope(servers.database_url) as session:
        found = availability.bookings_between(session, start, start + timedelta(minutes=1))
        return [b.navigator_id for b in found if b.starts_at == start]


def test_twenty_visitors_race_for_one_slot(servers: Servers) -> None:
    senders = [f"race{i}-{uuid.uuid4().hex[:8]}" for i in range(20)]
    offers = [fill_lead_form(servers, sender, "book a call") for sender in senders]
    target = slot_buttons(offers[0])[0]
    start = datetime.fromisoformat(
        json.loads(target["payload"].removeprefix("/inform"))["slot_choice"]
    )
    capacity = free_navigators_at(servers, start)
    assert capacity >= 1
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda sender: servers.send(sender, target["payload"]), senders))
    booked = [r for r in replies if "You're booked" in text_of(r)]
    taken = [r for r in replies if "just taken" in text_of(r)]
    assert (len(booked), len(taken)) == (capacity, 20 - capacity)
    assert all(len(slot_buttons(r)) == 6 for r in taken), "the others are offered new times"
    navigators = confirmed_at(servers, start)
    assert len(navigators) == capacity == len(set(navigators))
