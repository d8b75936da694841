"""Handing the visitor over to a person: live when the team is on duty, a call back otherwise."""

from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import TrackerAction
from actions.messages import latest_metadata
from bot.booking.availability import navigators_on_duty, team_back_at
from bot.booking.timezones import is_valid_zone
from bot.core.settings import get_settings
from bot.db.handoffs import Handoff
from bot.db.models import utcnow
from bot.db.repository import create_callback_request
from bot.db.session import session_scope
from bot.handoff import alerts, notices, state
from bot.intake.emergency import REMINDER

LIVE_CHANNELS = {"socketio", "telegram"}  # channels that can carry a navigator's messages
BOOK_BUTTON = {"title": "Book the free call", "payload": "/book_call"}
# Actions run through the HTTP API (not after a visitor's message) end by listening, so the
# visitor's next message follows an `action_listen` as the rules expect.
LISTEN = ActionExecuted("action_listen")


def visitor_zone(tracker: Tracker) -> str:
    """The visitor's time zone: the lead form's, the browser's, else US Eastern."""
    zone = tracker.get_slot("lead_timezone") or latest_metadata(tracker).get("timezone")
    return str(zone) if is_valid_zone(zone) else "America/New_York"


def offer_callback(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Session, note: str
) -> list[EventType]:
    """Queue a call back and say how a person will reach the visitor (the booking if no contact)."""
    contact = tracker.get_slot("lead_contact")
    create_callback_request(
        session,
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        contact=contact,
        note=note,
    )
    if contact:
        dispatcher.utter_message(
            text=f"I've asked our team to contact you at {contact}; a person will reach out "
            "during business hours."
        )
        return [SlotSet("human_requested", True)]
    dispatcher.utter_message(
        text="So that a person can reach you, the quickest way is the free 15-minute intro call "
        "at a time you choose. I'll just need your name and an email or phone number.",
        buttons=[BOOK_BUTTON],
    )
    return [SlotSet("human_requested", True)]


class ActionRequestHuman(TrackerAction):
    """Ask the team on duty to join the chat, or arrange a call back when nobody can."""

    action_name = "action_request_human"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Open a live request and alert the navigators on duty, else offer a call back."""
        now, channel = utcnow(), tracker.get_latest_input_channel() or "unknown"
        with session_scope() as session:
            if state.open_handoff(session, tracker.sender_id):
                dispatcher.utter_message(text=notices.still_waiting())
                return [SlotSet("human_requested", True)]
            if channel in LIVE_CHANNELS and navigators_on_duty(session, now):
                return self.ask_team(dispatcher, tracker, session, channel, now)
            if channel in LIVE_CHANNELS:
                self.record_out_of_hours(session, tracker.sender_id, channel, now)
                dispatcher.utter_message(
                    text=notices.out_of_hours(team_back_at(session, now), visitor_zone(tracker))
                )
            else:
                dispatcher.utter_message(
                    text="Of course. I've flagged this conversation for our team."
                )
            return offer_callback(dispatcher, tracker, session, "asked for a person in the chat")

    @staticmethod
    def ask_team(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        channel: str,
        now: datetime,
    ) -> list[EventType]:
        """Open the request, alert the team, tell the visitor what happens next."""
        handoff, new = state.request(session, tracker.sender_id, channel, now=now)
        if new:
            alerts.alert_on_duty(session, handoff, now)
        for text in notices.requested(get_settings().handoff_claim_minutes):
            dispatcher.utter_message(text=text)
        return [SlotSet("human_requested", True)]

    @staticmethod
    def record_out_of_hours(
        session: Session, conversation_id: str, channel: str, now: datetime
    ) -> None:
        """Keep the request on record, closed at once: nobody was on duty to take it."""
        handoff, _ = state.request(session, conversation_id, channel, now=now)
        state.close(session, handoff, "out_of_hours", now=now)


class ActionHandoffFallback(TrackerAction):
    """Run by the time-limit watcher: nobody joined or replied in time; offer a call back."""

    action_name = "action_handoff_fallback"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Apologise for the wait, queue a call back, offer the booking."""
        with session_scope() as session:
            latest: Handoff | None = state.latest_handoff(session, tracker.sender_id)
            outcome = latest.outcome if latest and latest.outcome else "unclaimed"
            dispatcher.utter_message(text=notices.fallback(outcome))
            note = "a live chat was asked for; nobody could reply in time"
            return [*offer_callback(dispatcher, tracker, session, note), LISTEN]


class ActionHandback(TrackerAction):
    """After a navigator hands the chat back: pick up where it makes sense."""

    action_name = "action_handback"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Offer the booking (or the unfinished questions); close any form left open.

        The numbers again when they were given in this conversation; a booked call is named,
        and anything else is offered as an option, since the visitor just talked with a person.
        """
        events: list[EventType] = []
        if tracker.active_loop_name:
            events = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if tracker.get_slot("emergency_triggered"):
            dispatcher.utter_message(text=REMINDER)
        booking = tracker.get_slot("booking_id")
        if booking:
            dispatcher.utter_message(text=notices.after_hand_back(str(booking)))
            return [*events, LISTEN]
        buttons = [BOOK_BUTTON]
        if not tracker.get_slot("recommendation"):
            buttons.append({"title": "Help me decide", "payload": "/request_assessment"})
        dispatcher.utter_message(text=notices.after_hand_back(None), buttons=buttons)
        return [*events, LISTEN]
