"""How the three risk detectors combine: the red-flag guard, the risk model and the intent.

Either detector firing means risk. The guard's patterns and a confident model reading are
high risk (the full emergency reply); a less sure reading, or the intent classifier alone,
is moderate risk (one line with the numbers, then the normal reply). The result is stored
in each message's parse data as `risk` (see `Assessment.as_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.risk_model import (
    ACUTE,
    CRISIS,
    HIGH,
    MODERATE,
    MODERATE_THRESHOLD,
    NONE,
    UNCLEAR,
    RiskReading,
)
from bot.safety import RedFlag

RISK = "risk"  # the parse-data key
EMERGENCY = "emergency"
GUARD, MODEL, INTENT = "guard", "model", "intent"
# The intent classifier's `emergency` counts when it is at least this sure.
INTENT_MIN_CONFIDENCE = 0.95
LEVELS = (NONE, MODERATE, HIGH)


@dataclass(frozen=True)
class Assessment:
    """One message's risk: how serious, what kind, and which detectors saw it."""

    level: str = NONE  # none, moderate or high
    kind: str | None = None  # acute, crisis or unclear (None when there is no risk)
    score: float = 0.0  # the model's probability of any risk (1.0 for a red flag)
    label: str = NONE  # the model's likeliest class
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def at_risk(self) -> bool:
        """Whether the visitor must be given the numbers."""
        return self.level != NONE

    def as_dict(self) -> dict[str, Any]:
        """The assessment as stored in a message's parse data."""
        return {
            "level": self.level,
            "kind": self.kind,
            "score": round(self.score, 4),
            "label": self.label,
            "sources": list(self.sources),
        }


def assess(
    flag: RedFlag | None, reading: RiskReading | None, intent: str | None, confidence: float
) -> Assessment:
    """Combine a red flag, a model reading and the classified intent into one assessment."""
    model_level = reading.level() if reading is not None else NONE
    by_intent = intent == EMERGENCY and confidence >= INTENT_MIN_CONFIDENCE
    fired = {GUARD: flag is not None, MODEL: model_level != NONE, INTENT: by_intent}
    sources = tuple(name for name, yes in fired.items() if yes)
    score = reading.score if reading is not None else 0.0
    label = reading.label if reading is not None else NONE
    if flag is not None:
        return Assessment(HIGH, _flag_kind(flag, reading), 1.0, label, sources)
    if model_level == HIGH or (model_level == MODERATE and by_intent):
        return Assessment(HIGH, _kind(reading), score, label, sources)
    if model_level == MODERATE or by_intent:
        return Assessment(MODERATE, _kind(reading), score, label, sources)
    return Assessment(NONE, None, score, label, sources)


def _flag_kind(flag: RedFlag, reading: RiskReading | None) -> str:
    """The red flag's kind, or unclear when the model is sure of the other kind."""
    if reading is None or reading.level() == NONE or reading.kind in (flag.kind, UNCLEAR):
        return flag.kind
    return UNCLEAR


def _kind(reading: RiskReading | None) -> str:
    """The model's kind when it reads any risk, else unclear (both numbers)."""
    if reading is None or reading.score < MODERATE_THRESHOLD / 2:
        return UNCLEAR
    return reading.kind


def from_parse_data(parse_data: dict[str, Any] | None) -> Assessment:
    """The assessment stored in a message's parse data (none when absent or malformed)."""
    stored = (parse_data or {}).get(RISK)
    if not isinstance(stored, dict) or stored.get("level") not in LEVELS:
        return Assessment()
    kind = stored.get("kind")
    return Assessment(
        level=str(stored["level"]),
        kind=kind if kind in (ACUTE, CRISIS, UNCLEAR) else None,
        score=float(stored.get("score") or 0.0),
        label=str(stored.get("label") or NONE),
        sources=tuple(str(s) for s in stored.get("sources") or ()),
    )
