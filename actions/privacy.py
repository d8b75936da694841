"""Visitor privacy requests."""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import TrackerAction
from bot.intake.recommendation import ASSESSMENT_SLOTS


class ActionDeleteMyData(TrackerAction):
    """Erase this conversation and what the visitor shared in it."""

    action_name = "action_delete_my_data"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
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
