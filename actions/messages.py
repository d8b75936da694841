"""Helpers for reading the latest visitor message from a tracker."""

from typing import Any

from rasa_sdk import Tracker


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
