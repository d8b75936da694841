"""Safety actions: the emergency interruption, and the check when only the classifier is worried."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import latest_entities, latest_intent
from bot.emergency import (
    CRISIS,
    DANGER_CHECK_BUTTONS,
    DANGER_CHECK_TEXT,
    NO_DANGER_TEXT,
    RED_FLAG,
    emergency_messages,
)

DANGER_CHECK = "danger_check"


def red_flag_kind(tracker: Tracker) -> str | None:
    """The most urgent red-flag kind the NLU guard attached to the latest message."""
    kinds = set(latest_entities(tracker, RED_FLAG))
    if CRISIS in kinds:
        return CRISIS
    return next(iter(kinds), None)


def has_red_flag(tracker: Tracker) -> bool:
    """Whether the deterministic guard flagged the latest message."""
    return bool(latest_entities(tracker, RED_FLAG))


class ActionEmergency(Action):
    """Give 911 / 988 at once on a red flag or a confirmed danger; otherwise ask once."""

    def name(self) -> str:
        """Action name."""
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send the emergency guidance and stop any form, or ask whether anyone is in danger."""
        asked = bool(tracker.get_slot(DANGER_CHECK))
        if not has_red_flag(tracker) and not asked and latest_intent(tracker) == "emergency":
            dispatcher.utter_message(text=DANGER_CHECK_TEXT, buttons=DANGER_CHECK_BUTTONS)
            return [SlotSet(DANGER_CHECK, True)]
        for text in emergency_messages(red_flag_kind(tracker)):
            dispatcher.utter_message(text=text)
        events: list[EventType] = [
            SlotSet("emergency_triggered", True),
            SlotSet(DANGER_CHECK, None),
        ]
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


class ActionNoDanger(Action):
    """The visitor says nobody is in danger: carry on where they were, answers kept."""

    def name(self) -> str:
        """Action name."""
        return "action_no_danger"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Thank them, keep the safety numbers in view, and clear the pending check."""
        dispatcher.utter_message(text=NO_DANGER_TEXT)
        if not tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_how_can_i_help")
        return [SlotSet(DANGER_CHECK, None)]
