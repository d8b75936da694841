"""Helpers for reading the latest visitor message from a tracker, shared by the forms."""

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

# Intents that, when a message cannot be read as an answer, leave the form to the rules.
INTERRUPTIONS = frozenset(
    {
        "emergency",
        "medical_advice",
        "request_human",
        "ask_second_opinion",
        "ask_advocacy",
        "ask_difference",
        "ask_both",
        "ask_cost",
        "ask_call_details",
        "ask_navigators",
        "bot_challenge",
        "stop",
        "book_call",
        "delete_my_data",
        "request_assessment",
    }
)


def latest_intent(tracker: Tracker) -> str | None:
    """The name of the latest user message's intent."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entities(tracker: Tracker, entity: str) -> list[Any]:
    """Values of one entity type in the latest user message."""
    entities = tracker.latest_message.get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == entity]


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message ('' if none)."""
    return tracker.latest_message.get("text") or ""


def is_fresh_reply(tracker: Tracker) -> bool:
    """True when the latest user message answers the form's question, not a side-step's return."""
    actions = [e.get("name") for e in reversed(tracker.events) if e.get("event") == "action"]
    # Rasa appends the form's own ActionExecuted before calling its validation action.
    return len(actions) > 1 and actions[1] == "action_listen"


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the channel sent with the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def validated_with_reask(
    tracker: Tracker, reask_slot: str, keep: Callable[[str], bool] = lambda _: True
) -> list[EventType]:
    """Pass extracted slots on; flag an unreadable answer to the requested slot for a clearer re-ask."""  # noqa: E501
    slots = tracker.slots_to_validate()
    events = [SlotSet(k, v) for k, v in slots.items() if keep(k)]
    requested = tracker.get_slot("requested_slot")
    if requested in slots and slots[requested] is None:
        return [*events, SlotSet(reask_slot, requested)]
    return [*events, SlotSet(reask_slot, None)] if events else events
