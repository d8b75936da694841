"""Who a bot message speaks for: the assistant, or a named team member in a takeover."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STAFF_KINDS = ("staff_message",)  # joined / handed_back notices speak as the assistant


def handoff_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """The `handoff` metadata a takeover event carries (empty for the bot's own replies)."""
    value = message.get("handoff")
    return value if isinstance(value, dict) else {}


def staff_name(message: Mapping[str, Any]) -> str | None:
    """The team member who wrote this message, or None when the assistant did."""
    handoff = handoff_of(message)
    name = handoff.get("staff_name")
    if handoff.get("kind") in STAFF_KINDS and isinstance(name, str) and name.strip():
        return name.strip()[:120]
    return None
