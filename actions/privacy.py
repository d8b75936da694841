"""Visitor privacy requests."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.intake.recommendation import ASSESSMENT_SLOTS


class ActionDeleteMyData(Action):
    """Erase this conversation and what the visitor shared in it."""

    def name(self) -> str:
        """Action name."""
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear the answers and ask the tracker store to erase the conversation.

        The tracker store (bot.rasa.runtime.tracker_store) deletes the conversation's events, leads,
        bookings and callback requests instead of saving the tracker once this turn ends.
        """
        dispatcher.utter_message(
            text="Done. I've deleted this conversation and what you shared in it: your "
            "answers, your contact details and any call you booked. If you write again, "
            "we'll start fresh."
        )
        cleared = [SlotSet(slot, None) for slot in (*ASSESSMENT_SLOTS, "recommendation")]
        return [*cleared, SlotSet("situation", None), SlotSet("deletion_requested", True)]
