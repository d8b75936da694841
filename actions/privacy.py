"""Visitor privacy requests."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.recommendation import ASSESSMENT_SLOTS


class ActionDeleteMyData(Action):
    """Record a request to erase what the visitor shared and forget it in this chat."""

    def name(self) -> str:
        """Action name."""
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear the answers held in the conversation and flag it for deletion."""
        dispatcher.utter_message(
            text="Understood. I've cleared your answers here and flagged this conversation "
            "so our team deletes it and anything you shared."
        )
        cleared = [SlotSet(slot, None) for slot in (*ASSESSMENT_SLOTS, "recommendation")]
        return [*cleared, SlotSet("situation", None), SlotSet("deletion_requested", True)]
