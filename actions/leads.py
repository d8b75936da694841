"""Lead capture: name, one contact, time zone, a one-line summary and consent."""

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import TrackerAction
from actions.messages import (
    INTERRUPTIONS,
    is_fresh_reply,
    latest_entities,
    latest_intent,
    latest_metadata,
    latest_text,
    validated_with_reask,
)
from bot.booking.contact import clean_name, display_phone, find_email, find_phone
from bot.booking.timezones import is_valid_zone, to_timezone
from bot.booking.warmth import Signals, warmth
from bot.db.repository import create_lead
from bot.db.session import session_scope

REASK = "lead_reask"
LEAD_INTERRUPTIONS = INTERRUPTIONS | {"deny"}
SKIP_WORDS = {"skip", "no", "nope", "rather not", "prefer not to say", "n/a", "none", "pass"}
SUMMARY_LIMIT = 200
YES = {"affirm"}


def read_contact(text: str) -> dict[str, Any]:
    """Slots for an email or phone number found in the text (empty if none)."""
    if email := find_email(text):
        return {"lead_contact": email, "lead_email": email, "lead_phone": None}
    if phone := find_phone(text):
        return {"lead_contact": display_phone(phone), "lead_phone": phone, "lead_email": None}
    return {}


def read_summary(text: str) -> str:
    """A one-line summary, or '' when the visitor skips it."""
    line = " ".join(text.split())
    if line.startswith("/") or line.lower().strip(".! ") in SKIP_WORDS:
        return ""
    return line[:SUMMARY_LIMIT]


def read_answer(slot: str, tracker: Tracker) -> dict[str, Any]:
    """Slots filled by the visitor's reply to the lead question `slot` (empty if unclear)."""
    text = latest_text(tracker)
    if slot == "lead_name":
        name = clean_name(text)
        return {"lead_name": name} if name else {}
    if slot == "lead_contact":
        return read_contact(text)
    if slot == "lead_timezone":
        zone = next(iter(latest_entities(tracker, "lead_timezone")), None) or to_timezone(text)
        return {"lead_timezone": zone} if is_valid_zone(zone) else {}
    if slot == "lead_summary":
        return {"lead_summary": read_summary(text)}
    if slot == "lead_consent" and latest_intent(tracker) in YES:
        return {"lead_consent": True}
    return {}


class ValidateLeadForm(FormValidationAction):
    """Fill the lead slots from the visitor's words; re-ask what cannot be used."""

    def name(self) -> str:
        """Action name."""
        return "validate_lead_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Read the reply to the requested question, and the browser's time zone if sent."""
        events: list[EventType] = []
        zone = latest_metadata(tracker).get("timezone")
        if tracker.get_slot("lead_timezone") is None and is_valid_zone(zone):
            events.append(SlotSet("lead_timezone", zone))
        slot = tracker.get_slot("requested_slot")
        if slot is None or not is_fresh_reply(tracker) or latest_intent(tracker) == "emergency":
            return events
        answer = read_answer(slot, tracker)
        if answer:
            return events + [SlotSet(k, v) for k, v in answer.items()]
        if latest_intent(tracker) in LEAD_INTERRUPTIONS:
            return events
        return [*events, SlotSet(slot, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Pass extracted values on, flagging an unusable answer for a clearer re-ask."""
        return validated_with_reask(tracker, REASK)


def lead_signals(tracker: Tracker) -> Signals:
    """What this conversation showed, for the warmth score."""
    return Signals(
        asked_to_book=True,
        recommendation=tracker.get_slot("recommendation"),
        situation=tracker.get_slot("situation"),
        has_summary=bool(tracker.get_slot("lead_summary")),
        human_requested=bool(tracker.get_slot("human_requested")),
        emergency_triggered=bool(tracker.get_slot("emergency_triggered")),
    )


class ActionSaveLead(TrackerAction):
    """Store the lead (once per conversation) before offering times."""

    action_name = "action_save_lead"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Create the lead row with its warmth score and set `lead_id`."""
        if tracker.get_slot("lead_id"):
            return []
        score, reasons = warmth(lead_signals(tracker))
        with session_scope() as session:
            lead = create_lead(
                session,
                name=tracker.get_slot("lead_name"),
                email=tracker.get_slot("lead_email"),
                phone=tracker.get_slot("lead_phone"),
                timezone=tracker.get_slot("lead_timezone"),
                summary=tracker.get_slot("lead_summary") or None,
                consent=True,
                recommendation=tracker.get_slot("recommendation"),
                situation=tracker.get_slot("situation"),
                channel=tracker.get_latest_input_channel() or "unknown",
                conversation_id=tracker.sender_id,
                warmth_score=score,
                warmth_reasons=reasons,
            )
            lead_id = lead.id
        dispatcher.utter_message(
            text=f"Thank you, {tracker.get_slot('lead_name')}. Now let's find a time."
        )
        return [SlotSet("lead_id", float(lead_id)), SlotSet(REASK, None)]
