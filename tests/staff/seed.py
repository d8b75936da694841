"""A seeded staff database: accounts of every role, real Rasa conversations, leads and more.

Shared by the staff app's tests (tests/staff/) and its browser test (tests/browser/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking.availability import add_time_off, set_override, set_weekly_hours
from bot.db.migrate import upgrade
from bot.db.models import Navigator, OutboxMessage
from bot.db.repository import create_booking, create_callback_request, create_lead
from bot.db.session import make_engine
from bot.rasa.events import events_table
from bot.staff.accounts import create_user
from tests.support.conversations import (
    Script,
    at,
    booked_conversation,
    emergency_conversation,
    fallback_conversation,
    follow_up,
    greeting,
    human_conversation,
    low_confidence_conversation,
    write_conversation,
)
from tests.support.indexing import index_pending

PASSWORD = "Correct-Horse-7-Battery"
ROLES = ("admin", "navigator", "reviewer")
XSS = "<script>alert(1)</script>"
NAME, EMAIL, PHONE = "Sam Rivera", "sam.rivera@example.com", "+13035550142"
PHONE_AS_TYPED = "303-555-0142"
START = at(day=1)  # 2025-03-04 15:00 UTC, the tests' "now"; the conversations are a day older
# conv-unsure's last two messages carry the answer model's readings (test_answer_labels.py).
ANSWER_TEXT = "it's just me, nobody else is around to help"  # asked the support question
UNPROMPTED_TEXT = "honestly it keeps changing every week"  # no question open


@dataclass
class Seeded:
    """Ids of what the seeded database holds."""

    url: str
    lead_id: int = 0
    booking_id: int = 0
    callback_id: int = 0
    navigator_id: int = 0
    override_id: int = 0
    time_off_id: int = 0
    greet_event_id: int = 0  # "hi there" in conv-booked: a typed message without personal data
    answer_event_id: int = 0  # ANSWER_TEXT in conv-unsure: open_question "support"
    unprompted_event_id: int = 0  # UNPROMPTED_TEXT in conv-unsure: answers, no open question


def xss_conversation() -> list:
    """A greeting, then a visitor message holding a script tag."""
    script = greeting(Script(at(hour=3), "socketio"))
    script.user(XSS, "out_of_scope", 0.71).utter("utter_out_of_scope").listen()
    return script.events


def readings(**values: tuple[str, float]) -> dict[str, dict[str, object]]:
    """The `answers` parse data of a message: question -> {value, confidence}."""
    return {q: {"value": v, "confidence": c} for q, (v, c) in values.items()}


def answered(script: Script, text: str, answers: dict, open_question: str | None) -> Script:
    """A typed visitor message whose parse data carries the answer model's readings."""
    script.user(text, "inform", 0.9)
    uttered = script.events[-2]  # Script.user adds the message, then its featurization flag
    uttered.parse_data["answers"] = answers
    if open_question:
        uttered.parse_data["open_question"] = open_question
    return script


def support_answer(script: Script, text: str) -> Script:
    """A visitor message `text` answering the open support question: read as "alone"."""
    answers = readings(
        scope=("none", 0.81), decisions=("none", 0.77), need=("none", 0.7), support=("alone", 0.93)
    )
    return answered(script, text, answers, "support")


def unprompted_remark(script: Script, text: str) -> Script:
    """A visitor message `text` with no question open, read as complex scope and many decisions."""
    answers = readings(
        scope=("complex", 0.71),
        decisions=("many", 0.64),
        need=("none", 0.9),
        support=("none", 0.88),
    )
    return answered(script, text, answers, None)


def answers_follow_up() -> list:
    """Two more messages for conv-unsure: an answer to the support question, then a remark."""
    script = Script(at(hour=7, minute=30))
    script.action("assessment_form").slots(requested_slot="support")
    script.utter("utter_ask_support").listen()
    support_answer(script, ANSWER_TEXT)
    script.action("assessment_form").slots(support="alone").listen()
    unprompted_remark(script, UNPROMPTED_TEXT)
    return script.listen().events


def seed_conversations(url: str) -> None:
    """Real Rasa conversations of every kind the inbox filters on."""
    write_conversation(
        url, "conv-booked", booked_conversation(start=at(hour=1), name=NAME, contact=EMAIL)
    )
    write_conversation(
        url,
        "conv-booked",
        follow_up(
            start=at(hour=2), text=f"This is {NAME}, or call {PHONE_AS_TYPED}", intent="inform"
        ),
    )
    write_conversation(url, "conv-xss", xss_conversation())
    write_conversation(
        url, "conv-emergency", emergency_conversation(start=at(hour=4), channel="socketio")
    )
    write_conversation(
        url, "conv-fallback", fallback_conversation(start=at(hour=5), channel="telegram")
    )
    write_conversation(url, "conv-human", human_conversation(start=at(hour=6)))
    write_conversation(url, "conv-unsure", low_confidence_conversation(start=at(hour=7)))
    write_conversation(url, "conv-unsure", answers_follow_up())


def seed_rows(session: Session, seeded: Seeded) -> None:
    """Accounts, a navigator with hours, the lead with its booking, a callback, an email."""
    for role in ROLES:
        create_user(
            session,
            username=role,
            display_name=f"{role.title()} Person",
            role=role,
            password=PASSWORD,
        )
    create_user(
        session, username="spare", display_name="Spare Person", role="reviewer", password=PASSWORD
    )
    navigator = Navigator(name="Dr. Ada Park", email="ada@example.org", timezone="America/Denver")
    session.add(navigator)
    session.flush()
    set_weekly_hours(session, navigator, {"mon": ["09:00-17:00"], "wed": ["09:00-17:00"]})
    set_override(session, navigator.email, (START + timedelta(days=9)).date(), "closed")
    off = add_time_off(
        session,
        navigator.email,
        START + timedelta(days=20),
        START + timedelta(days=21),
        reason="conference",
    )
    lead = create_lead(
        session,
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        timezone="America/Denver",
        summary='=HYPERLINK("http://evil.example")',
        consent=True,
        recommendation="both",
        channel="rest",
        conversation_id="conv-booked",
        status="booked",
    )
    booking = create_booking(
        session,
        lead.id,
        navigator.id,
        at(day=2, hour=2),
        at(day=2, hour=2, minute=15),
        "America/Denver",
    )
    callback = create_callback_request(
        session,
        conversation_id="conv-human",
        channel="rest",
        contact="+13035550199",
        note="please call after 5",
    )
    session.add(
        OutboxMessage(
            booking_id=booking.id,
            kind="confirmation",
            recipient=EMAIL,
            subject="Your intro call",
            body_text="SECRET BODY TEXT",
        )
    )
    session.flush()
    seeded.lead_id, seeded.booking_id, seeded.callback_id = lead.id, booking.id, callback.id
    seeded.navigator_id, seeded.time_off_id = navigator.id, off.id
    seeded.override_id = navigator.date_overrides[0].id
    seeded.greet_event_id = session.scalar(
        select(events_table.c.id).where(
            events_table.c.sender_id == "conv-booked",
            events_table.c.type_name == "user",
            events_table.c.intent_name == "greet",
        )
    )
    seeded.answer_event_id, seeded.unprompted_event_id = session.scalars(
        select(events_table.c.id)
        .where(
            events_table.c.sender_id == "conv-unsure",
            events_table.c.type_name == "user",
            events_table.c.intent_name == "inform",
        )
        .order_by(events_table.c.id)
    ).all()


def build(url: str) -> Seeded:
    """Migrate the empty database at `url`, fill it and let the index consumer catch up."""
    upgrade(url)
    seed_conversations(url)
    seeded = Seeded(url=url)
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session:
            seed_rows(session, seeded)
            session.commit()
    finally:
        engine.dispose()
    index_pending(url)  # what `python -m bot run-indexer` does in a running system
    return seeded
