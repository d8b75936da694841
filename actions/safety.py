"""Safety actions: the emergency reply (numbers first, any form paused) and carrying on after it.

While a team member holds the chat (Rasa paused: bot/rasa/runtime/paused.py still lets a
red-flagged message through), the reply gives the numbers, then says the person is still there:
no form is touched and no "carry on" is offered, since the bot answers nothing else meanwhile.
"""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import answer_from_entities
from actions.base import TrackerAction
from actions.messages import latest_entities
from bot.intake.emergency import (
    ACUTE,
    CARRY_ON_BUTTONS,
    CARRY_ON_TEXT,
    CLOSING,
    CRISIS,
    RED_FLAG,
    emergency_messages,
    takeover_messages,
)
from bot.intake.recommendation import SIDES

PAUSED_LOOP = "paused_loop"  # the form the emergency reply paused, resumed on "we're safe"
RESUMABLE = frozenset({"assessment_form", "lead_form", "booking_form"})


def red_flag_kind(tracker: Tracker) -> str | None:
    """The kind the message guard attached to the latest message (None: unclear or unknown)."""
    kinds = set(latest_entities(tracker, RED_FLAG))
    return kinds.pop() if len(kinds) == 1 and kinds <= {ACUTE, CRISIS} else None


class ActionEmergency(TrackerAction):
    """Give 911 / 988 at once, whatever else was going on; pause any form, answers kept."""

    action_name = "action_emergency"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Send the numbers; then say who is still in the chat, or offer to carry on."""
        if tracker.is_paused():
            for text in takeover_messages(red_flag_kind(tracker), staff_in_chat(tracker)):
                dispatcher.utter_message(text=text)
            return [SlotSet("emergency_triggered", True)]
        for text in emergency_messages(red_flag_kind(tracker)):
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(text=CLOSING, buttons=CARRY_ON_BUTTONS)
        events: list[EventType] = [SlotSet("emergency_triggered", True)]
        loop = tracker.active_loop.get("name")
        if loop:
            events += [*kept_answer(tracker), SlotSet(PAUSED_LOOP, loop)]
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


def staff_in_chat(tracker: Tracker) -> str | None:
    """The name of the team member holding the chat: the latest one who joined or wrote."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        handoff: dict[str, Any] = (event.get("metadata") or {}).get("handoff") or {}
        if handoff.get("kind") == "handed_back":
            return None
        if handoff.get("kind") in ("joined", "staff_message"):
            name = str(handoff.get("staff_name") or "").strip()
            return name or None
    return None


class ActionCarryOn(TrackerAction):
    """The visitor says everyone is safe: back to where they were, answers kept."""

    action_name = "action_carry_on"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Keep the numbers in view, then resume the paused form or ask how to help."""
        dispatcher.utter_message(text=CARRY_ON_TEXT)
        loop = tracker.get_slot(PAUSED_LOOP)
        if loop in RESUMABLE:
            return [SlotSet(PAUSED_LOOP, None), FollowupAction(loop)]
        dispatcher.utter_message(response="utter_how_can_i_help")
        return [SlotSet(PAUSED_LOOP, None)]


def kept_answer(tracker: Tracker) -> list[EventType]:
    """The answer to the open question the answer model read from the same message, if any."""
    slot = tracker.get_slot("requested_slot")
    if tracker.active_loop.get("name") != "assessment_form" or slot not in SIDES:
        return []
    value = answer_from_entities(tracker, slot)
    return [SlotSet(slot, value)] if value else []
