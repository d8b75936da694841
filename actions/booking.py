"""Offering intro-call times, booking one, and cancelling or moving a booking."""

import re
from datetime import datetime, timezone
from typing import Any, ClassVar

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import TrackerAction
from actions.messages import is_fresh_reply, latest_entities, latest_intent, latest_text
from bot.booking import availability
from bot.booking import calls as booking
from bot.booking.contact import proves_contact
from bot.booking.scheduling import format_slot
from bot.db.models import Booking, Lead
from bot.db.repository import SlotTaken, create_callback_request, find_booking
from bot.db.session import session_scope

LATER = "later"
NONE_FREE = "none"
REFERENCE = re.compile(r"\bPR[\s\-_]?[A-Z0-9]{6}\b", re.IGNORECASE)
ORDINALS = {
    "first": 0,
    "1": 0,
    "second": 1,
    "2": 1,
    "third": 2,
    "3": 2,
    "fourth": 3,
    "4": 3,
    "fifth": 4,
    "5": 4,
}


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(timezone.utc)


def visitor_zone(tracker: Tracker) -> str:
    """The visitor's time zone (from the lead form), defaulting to US Eastern."""
    return tracker.get_slot("lead_timezone") or "America/New_York"


def pick_from_words(text: str, offered: list[dict[str, str]]) -> str | None:
    """An offered start chosen in words ('the first one', '10:15'), or None if unclear."""
    words = re.findall(r"[a-z0-9:]+", text.lower())
    for word in words:
        if word in ORDINALS and ORDINALS[word] < len(offered):
            return offered[ORDINALS[word]]["start"]
    times = [w for w in words if ":" in w]
    matches = [o for o in offered if times and any(t in o["label"].lower() for t in times)]
    return matches[0]["start"] if len(matches) == 1 else None


class ValidateBookingForm(FormValidationAction):
    """Read the visitor's choice of time; 'later times' pages on."""

    def name(self) -> str:
        """Action name."""
        return "validate_booking_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing to ask when a call is already booked and not being moved."""
        if tracker.get_slot("booking_id") and not tracker.get_slot("reschedule_ref"):
            return []
        return domain_slots

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Turn a button or words into a chosen start time."""
        if tracker.get_slot("requested_slot") != "slot_choice" or not is_fresh_reply(tracker):
            return []
        if latest_intent(tracker) == "emergency":
            return []
        offered = tracker.get_slot("offered_slots") or []
        choice = next(iter(latest_entities(tracker, "slot_choice")), None)
        choice = choice or pick_from_words(latest_text(tracker), offered)
        if choice == LATER and offered:
            return [SlotSet("slot_choice", None), SlotSet("slot_page_after", offered[-1]["start"])]
        return [SlotSet("slot_choice", choice)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Pass the choice on unchanged."""
        return [SlotSet(k, v) for k, v in tracker.slots_to_validate().items()]


class ActionAskSlotChoice(TrackerAction):
    """Offer the next five free times in the visitor's zone, with a 'later times' button."""

    action_name = "action_ask_slot_choice"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Show the times as buttons and remember what was offered."""
        page_after = tracker.get_slot("slot_page_after")
        after = None
        if page_after:  # the next page starts one step after the last offered start
            after = datetime.fromisoformat(page_after) + availability.POLICY.step
        tz = visitor_zone(tracker)
        with session_scope() as session:
            slots = availability.offer(
                session, utcnow(), after=after, moving=tracker.get_slot("reschedule_ref")
            )
        if not slots:
            return self._none_free(dispatcher, tracker)
        offered = [{"start": s.start.isoformat(), "label": format_slot(s, tz)} for s in slots]
        buttons = [
            {"title": o["label"], "payload": f'/inform{{"slot_choice": "{o["start"]}"}}'}
            for o in offered
        ]
        buttons.append({"title": "Later times", "payload": f'/inform{{"slot_choice": "{LATER}"}}'})
        dispatcher.utter_message(text="Which time suits you?", buttons=buttons)
        return [SlotSet("offered_slots", offered)]

    @staticmethod
    def _none_free(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """No free time in the booking horizon: hand over to the team."""
        with session_scope() as session:
            create_callback_request(
                session,
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel() or "unknown",
                contact=tracker.get_slot("lead_contact"),
                note="no free intro-call slot",
            )
        dispatcher.utter_message(
            text="I'm sorry, I can't find a free time in the next three weeks. I've asked our "
            "team to contact you to arrange one."
        )
        return [SlotSet("slot_choice", NONE_FREE)]


class ActionBookSlot(TrackerAction):
    """Book the chosen time in one transaction; if it was just taken, offer the next ones."""

    action_name = "action_book_slot"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Create the booking, set `booking_id` and confirm the time in the visitor's zone."""
        choice = tracker.get_slot("slot_choice")
        if tracker.get_slot("booking_id") and not tracker.get_slot("reschedule_ref"):
            return self._already_booked(dispatcher, tracker)
        if choice in (None, NONE_FREE):
            return [SlotSet("slot_choice", None)]
        try:
            reference, text = self._book(tracker, datetime.fromisoformat(choice))
        except (SlotTaken, ValueError):
            dispatcher.utter_message(
                text="I'm sorry, that time was just taken. Here are the next free ones."
            )
            return [
                SlotSet("slot_choice", None),
                SlotSet("slot_page_after", None),
                FollowupAction("booking_form"),
            ]
        dispatcher.utter_message(
            text=f"You're booked: {text}. Your reference is {reference}. "
            + (
                "A confirmation is on its way to your email. "
                if tracker.get_slot("lead_email")
                else ""
            )
            + "If anything changes, just tell me you'd like to move or cancel the call."
        )
        return [
            SlotSet("booking_id", reference),
            SlotSet("booking_time", text),
            SlotSet("reschedule_ref", None),
            SlotSet("slot_page_after", None),
            SlotSet("offered_slots", None),
        ]

    @staticmethod
    def _book(tracker: Tracker, start: datetime) -> tuple[str, str]:
        """Book in the database; the reference and the time as the visitor reads it."""
        with session_scope() as session:
            lead = session.get(Lead, int(tracker.get_slot("lead_id")))
            made = booking.book(session, lead, start, utcnow(), tracker.get_slot("reschedule_ref"))
            return made.reference, booking.when(made)

    @staticmethod
    def _already_booked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Point to the existing booking instead of making a second one."""
        dispatcher.utter_message(
            text=f"You already have a call booked: {tracker.get_slot('booking_time')} "
            f"(reference {tracker.get_slot('booking_id')}). Would you like to move it?",
            buttons=[
                {"title": "Move my call", "payload": "/reschedule_booking"},
                {"title": "Cancel my call", "payload": "/cancel_booking"},
            ],
        )
        return []


def referenced_booking(tracker: Tracker) -> Booking | None:
    """The confirmed booking the visitor means and may change, or None.

    A call booked in this chat can be named by its reference or not at all. One booked in
    another chat needs its reference and the email or phone number it was booked with, in the
    same message: a reference alone is not enough to change someone's call.
    """
    text = latest_text(tracker)
    match = REFERENCE.search(text)
    reference = match.group(0) if match else tracker.get_slot("booking_id")
    if not reference:
        return None
    with session_scope() as session:
        found = find_booking(session, reference)
        if found is None or found.status != "confirmed":
            return None
        lead = session.get(Lead, found.lead_id)
        own = lead.conversation_id == tracker.sender_id
        return found if own or proves_contact(text, lead.email, lead.phone) else None


class AskChange(TrackerAction):
    """Ask the visitor to confirm changing a booking (`verb` it); subclasses name the action."""

    verb: ClassVar[str]  # in the question: "cancel" or "move" your call
    confirm: ClassVar[str]  # the title of the button that says yes

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Find the booking and ask the visitor to confirm the change."""
        found = referenced_booking(tracker)
        if found is None:  # one reply for unknown and unproven references: no way to probe them
            named = REFERENCE.search(latest_text(tracker))
            dispatcher.utter_message(
                response="utter_booking_verify" if named else "utter_no_booking"
            )
            return [SlotSet("pending_change", None)]
        dispatcher.utter_message(
            text=f"Just to check: {self.verb} your call on {booking.when(found)} "
            f"(reference {found.reference})?",
            buttons=[
                {"title": self.confirm, "payload": "/affirm"},
                {"title": "Keep it", "payload": "/deny"},
            ],
        )
        return [
            SlotSet("pending_change", found.reference),
            SlotSet("lead_id", float(found.lead_id)),
            SlotSet("lead_timezone", tracker.get_slot("lead_timezone") or found.visitor_timezone),
        ]


class ActionAskCancel(AskChange):
    """Ask the visitor to confirm which booking to cancel."""

    action_name, verb, confirm = "action_ask_cancel", "cancel", "Yes, cancel it"


class ActionAskReschedule(AskChange):
    """Ask the visitor to confirm which booking to move."""

    action_name, verb, confirm = "action_ask_reschedule", "move", "Yes, find a new time"


class ActionCancelBooking(TrackerAction):
    """Cancel the confirmed booking; its slot becomes free again."""

    action_name = "action_cancel_booking"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Cancel and say so."""
        reference = tracker.get_slot("pending_change")
        with session_scope() as session:
            cancelled = booking.cancel(session, reference) if reference else None
            text = booking.when(cancelled) if cancelled else None
        if cancelled is None:
            dispatcher.utter_message(response="utter_no_booking")
            return [SlotSet("pending_change", None)]
        dispatcher.utter_message(
            text=f"Done: your call on {text} is cancelled. You're welcome to book again any time.",
            buttons=[{"title": "Book a new time", "payload": "/book_call"}],
        )
        events: list[Any] = [SlotSet("pending_change", None)]
        if tracker.get_slot("booking_id") == reference:
            events += [SlotSet("booking_id", None), SlotSet("booking_time", None)]
        return events


class ActionStartReschedule(TrackerAction):
    """Prepare the booking form to pick a new time for an existing booking."""

    action_name = "action_start_reschedule"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Remember which booking is being moved; your old time is kept until a new one is set."""
        dispatcher.utter_message(
            text="Sure. Your current time stays booked until you pick a new one."
        )
        return [
            SlotSet("reschedule_ref", tracker.get_slot("pending_change")),
            SlotSet("pending_change", None),
            SlotSet("slot_choice", None),
            SlotSet("slot_page_after", None),
        ]
