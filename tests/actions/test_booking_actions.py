"""Lead capture and booking actions against a real (SQLite) database."""

from datetime import datetime

from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.booking import (
    ActionAskCancel,
    ActionAskSlotChoice,
    ActionBookSlot,
    ValidateBookingForm,
    utcnow,
)
from actions.leads import ActionSaveLead, ValidateLeadForm
from bot.booking import availability
from bot.booking.calls import book
from bot.db.models import Booking, Lead
from bot.db.repository import create_lead
from bot.db.session import session_scope

OTHER_VISITOR = {
    "name": "Sam Other",
    "email": "sam@example.com",
    "timezone": "America/Denver",
    "consent": True,
    "channel": "rest",
    "conversation_id": "other",
    "warmth_score": 50,
    "warmth_reasons": [],
}
LEAD = {
    "lead_name": "Maria Lopez",
    "lead_email": "maria@example.com",
    "lead_contact": "maria@example.com",
    "lead_timezone": "America/Denver",
    "lead_summary": "",
    "lead_consent": True,
}


def slots_of(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_lead_form_reads_contact_and_reasks_nonsense(make_tracker, domain) -> None:
    phone = make_tracker("call me on 415 555 2671", slots={"requested_slot": "lead_contact"})
    events = await ValidateLeadForm().run(CollectingDispatcher(), phone, domain)
    assert slots_of(events)["lead_phone"] == "+14155552671"
    vague = make_tracker("whenever works", slots={"requested_slot": "lead_contact"})
    events = await ValidateLeadForm().run(CollectingDispatcher(), vague, domain)
    assert slots_of(events) == {"lead_contact": None, "lead_reask": "lead_contact"}


async def test_browser_time_zone_is_taken_from_metadata(make_tracker, domain) -> None:
    tracker = make_tracker("I'm Sam", slots={"requested_slot": "lead_name"})
    tracker.events[1]["metadata"] = {"timezone": "Europe/Lisbon"}
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert slots_of(events)["lead_timezone"] == "Europe/Lisbon"
    assert slots_of(events)["lead_name"] == "Sam"


async def test_refusing_consent_is_left_to_the_rules(make_tracker, domain) -> None:
    tracker = make_tracker("no", intent="deny", slots={"requested_slot": "lead_consent"})
    assert await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain) == []


async def test_save_lead_then_offer_and_book(make_tracker, domain, database) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**LEAD, "recommendation": "both"})
    events = await ActionSaveLead().run(dispatcher, tracker, domain)
    lead_id = slots_of(events)["lead_id"]
    with session_scope() as session:
        lead = session.get(Lead, int(lead_id))
        assert (lead.name, lead.recommendation, lead.warmth_score) == ("Maria Lopez", "both", 70)

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**LEAD, "lead_id": lead_id})
    events = await ActionAskSlotChoice().run(dispatcher, tracker, domain)
    offered = slots_of(events)["offered_slots"]
    assert len(offered) == 5 and all("M" in o["label"] for o in offered)  # MST / MDT
    assert dispatcher.messages[0]["buttons"][-1]["title"] == "Later times"

    chosen = offered[1]["start"]
    tracker = make_tracker(slots={**LEAD, "lead_id": lead_id, "slot_choice": chosen})
    dispatcher = CollectingDispatcher()
    events = await ActionBookSlot().run(dispatcher, tracker, domain)
    reference = slots_of(events)["booking_id"]
    assert reference in dispatcher.messages[0]["text"]
    with session_scope() as session:
        booking = session.scalars(select(Booking).where(Booking.reference == reference)).one()
    assert booking.starts_at == datetime.fromisoformat(chosen)

    retried = make_tracker(slots={**LEAD, "lead_id": lead_id, "slot_choice": chosen})
    dispatcher = CollectingDispatcher()
    events = await ActionBookSlot().run(dispatcher, retried, domain)
    assert slots_of(events)["booking_id"] == reference  # a retry is told the booking it holds

    other = make_tracker(slots={**LEAD, "lead_id": lead_id, "slot_choice": offered[2]["start"]})
    with session_scope() as session:
        start = datetime.fromisoformat(offered[2]["start"])
        for _ in availability.free_navigators(session, start, utcnow()):
            book(session, create_lead(session, **OTHER_VISITOR), start, utcnow())
    dispatcher = CollectingDispatcher()
    events = await ActionBookSlot().run(dispatcher, other, domain)
    assert "just taken" in dispatcher.messages[0]["text"]
    assert FollowupAction("booking_form") in events
    assert SlotSet("slot_choice", None) in events


async def test_later_times_pages_on(make_tracker, domain) -> None:
    offered = [{"start": "2030-01-07T15:00:00+00:00", "label": "Mon 7 Jan, 8:00 AM MST"}]
    tracker = make_tracker(
        '/inform{"slot_choice": "later"}',
        slots={"requested_slot": "slot_choice", "offered_slots": offered},
        entities=[{"entity": "slot_choice", "value": "later"}],
        active_loop="booking_form",
    )
    events = await ValidateBookingForm().run(CollectingDispatcher(), tracker, domain)
    assert slots_of(events) == {"slot_choice": None, "slot_page_after": offered[0]["start"]}


async def test_moving_a_call_offers_its_own_time_again(make_tracker, domain, database) -> None:
    events = await ActionSaveLead().run(CollectingDispatcher(), make_tracker(slots=LEAD), domain)
    lead_id = slots_of(events)["lead_id"]
    with session_scope() as session:
        lead = session.get(Lead, int(lead_id))
        (first,) = availability.offer(session, utcnow(), count=1)
        references = [
            book(session, lead, first.start, utcnow()).reference
            for _ in availability.free_navigators(session, first.start, utcnow())
        ]

    async def offered_starts(reschedule_ref: str | None) -> list[str]:
        slots = {**LEAD, "lead_id": lead_id, "booking_id": references[0]}
        tracker = make_tracker(slots=slots | {"reschedule_ref": reschedule_ref})
        events = await ActionAskSlotChoice().run(CollectingDispatcher(), tracker, domain)
        return [o["start"] for o in slots_of(events)["offered_slots"]]

    assert first.start.isoformat() not in await offered_starts(None)
    assert (await offered_starts(references[0]))[0] == first.start.isoformat()


async def test_a_call_booked_elsewhere_needs_its_reference_and_contact(
    make_tracker, domain, database
) -> None:
    events = await ActionSaveLead().run(CollectingDispatcher(), make_tracker(slots=LEAD), domain)
    with session_scope() as session:
        lead = session.get(Lead, int(slots_of(events)["lead_id"]))
        (slot,) = availability.offer(session, utcnow(), count=1)
        reference = book(session, lead, slot.start, utcnow()).reference

    async def ask(text: str, sender: str = "another-chat") -> tuple[dict, dict]:
        tracker = make_tracker(text, intent="cancel_booking")
        tracker.sender_id = sender
        dispatcher = CollectingDispatcher()
        events = await ActionAskCancel().run(dispatcher, tracker, domain)
        return dispatcher.messages[0], slots_of(events)

    for text in (
        f"cancel {reference}",
        f"cancel {reference} someone.else@example.com",
        f"cancel PR-ZZZZZZ {LEAD['lead_email']}",
    ):
        message, slots = await ask(text)
        assert message["response"] == "utter_booking_verify"
        assert slots == {"pending_change": None}
    message, slots = await ask(f"please cancel {reference.lower()}, it's MARIA@example.com")
    assert reference in message["text"] and slots["pending_change"] == reference
    message, slots = await ask(f"cancel {reference}", sender="test-visitor")  # where it was booked
    assert slots["pending_change"] == reference
    message, slots = await ask("cancel my call")  # no reference, nothing booked in this chat
    assert message["response"] == "utter_no_booking" and slots == {"pending_change": None}
