"""Handing the visitor over to a person."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionRequestHuman(Action):
    """Say how a person will reach the visitor, and record that one was asked for."""

    def name(self) -> str:
        """Action name."""
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send the handoff message and set `human_requested`."""
        dispatcher.utter_message(
            text="Of course. I've flagged this conversation for our team, and a person will "
            "follow up during business hours."
        )
        dispatcher.utter_message(
            text="The surest way to talk with someone is the free 15-minute intro call, where "
            "our team reaches you at the time you choose.",
            buttons=[{"title": "Book the free call", "payload": "/book_call"}],
        )
        return [SlotSet("human_requested", True)]
