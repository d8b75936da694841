"""Who a bot message speaks for: the assistant, or a named team member in a takeover.

Takeover events carry `metadata.handoff = {kind, staff_name, staff_id}`; `BotUttered.message()`
puts metadata keys at the top of the message, other callers may keep them under `metadata`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KINDS = ("staff_message", "joined", "handed_back")
STAFF_KINDS = ("staff_message",)  # joined / handed_back notices speak as the assistant
MAX_NAME = 80


def handoff_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """The `handoff` metadata a takeover message carries (empty for the bot's own replies)."""
    value = message.get("handoff")
    metadata = message.get("metadata")
    if value is None and isinstance(metadata, Mapping):
        value = metadata.get("handoff")
    return value if isinstance(value, dict) else {}


def kind_of(message: Mapping[str, Any]) -> str | None:
    """The takeover kind of a message (staff_message, joined, handed_back), if it has one."""
    kind = handoff_of(message).get("kind")
    return kind if kind in KINDS else None


def named(message: Mapping[str, Any]) -> str | None:
    """The staff member a takeover message names, whitespace collapsed and shortened."""
    name = handoff_of(message).get("staff_name")
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())[:MAX_NAME]
    return None


def staff_name(message: Mapping[str, Any]) -> str | None:
    """The team member who wrote this message, or None when the assistant did."""
    return named(message) if kind_of(message) in STAFF_KINDS else None
