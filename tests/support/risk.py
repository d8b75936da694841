"""Visitor messages carrying the NLU's risk annotation (`parse_data["risk"]`), as Rasa stores it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.support.conversations import Script


def risk(
    label: str,
    score: float,
    level: str,
    kind: str | None = None,
    sources: Sequence[str] = ("model",),
) -> dict[str, Any]:
    """A risk annotation as the NLU writes it into a message's parse data."""
    return {"label": label, "score": score, "level": level, "kind": kind, "sources": list(sources)}


def risky(
    script: Script,
    text: str,
    annotation: dict[str, Any] | None,
    intent: str = "inform",
    confidence: float = 0.8,
) -> Script:
    """A typed visitor message whose parse data carries `annotation` (None: an older message)."""
    script.user(text, intent, confidence)
    if annotation is not None:
        uttered = script.events[-2]  # Script.user adds the message, then its featurization flag
        uttered.parse_data["risk"] = annotation
    return script
