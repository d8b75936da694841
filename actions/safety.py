"""Safety actions: the emergency interruption."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import latest_entities
from bot.emergency import CRISIS, emergency_messages


def red_flag_kind(tracker: Tracker) -> str | None:
    """The most urgent red-flag kind the NLU guard attached to the latest message."""
    kinds = set(latest_entities(tracker, "red_flag"))
    if CRISIS in kinds:
        return CRISIS
    return next(iter(kinds), None)


class ActionEmergency(Action):
    """Give 911 / 988 at once and stop whatever form was running."""

    def name(self) -> str:
        """Action name."""
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send the emergency guidance and deactivate any active form."""
        for text in emergency_messages(red_flag_kind(tracker)):
            dispatcher.utter_message(text=text)
        events: list[EventType] = [SlotSet("emergency_triggered", True)]
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events
