"""Handing the visitor over to a person."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.db.repository import create_callback_request
from bot.db.session import session_scope


class ActionRequestHuman(Action):
    """Say how a person will reach the visitor, and record that one was asked for."""

    def name(self) -> str:
        """Action name."""
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Queue a callback request, say how a person will reach them, set `human_requested`."""
        contact = tracker.get_slot("lead_contact")
        with session_scope() as session:
            create_callback_request(
                session,
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel() or "unknown",
                contact=contact,
                note="asked for a person in the chat",
            )
        if contact:
            dispatcher.utter_message(
                text=f"Of course. I've asked our team to contact you at {contact}; a person "
                "will reach out during business hours."
            )
            return [SlotSet("human_requested", True)]
        dispatcher.utter_message(
            text="Of course. I've flagged this conversation for our team. So that a person can "
            "reach you, the quickest way is the free 15-minute intro call at a time you choose."
        )
        dispatcher.utter_message(
            text="I'll just need your name and an email or phone number.",
            buttons=[{"title": "Book the free call", "payload": "/book_call"}],
        )
        return [SlotSet("human_requested", True)]
