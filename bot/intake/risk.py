"""How the three risk detectors combine: the red-flag guard, the risk model and the intent.

Either detector firing means risk. The guard's patterns and a confident model reading are
high risk (the full emergency reply); a less sure reading, or the intent classifier alone,
is moderate risk (one line with the numbers, then the normal reply). The result is stored
in each message's parse data as `risk` (see `Assessment.as_dict`) and read back, by the
runtime and the staff app alike, with `stored_assessment`. This module holds the vocabulary
and imports neither spaCy nor scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.intake.emergency import ACUTE, CRISIS

if TYPE_CHECKING:
    from bot.intake.risk_model import RiskReading
    from bot.intake.safety import RedFlag

NONE = "none"
UNCLEAR = "unclear"  # risk, but acute and crisis are both likely: give both numbers
HIGH = "high"  # the full emergency reply, and any form pauses
MODERATE = "moderate"  # one line with the numbers, then the normal reply
LABELS = (ACUTE, CRISIS, NONE)  # the risk model's classes
LEVELS = (NONE, MODERATE, HIGH)
KINDS = (ACUTE, CRISIS, UNCLEAR)  # which numbers the visitor is given
ALERT_LEVELS = (HIGH, MODERATE)  # the levels at which the visitor gets the numbers
RISK = "risk"  # the parse-data key
EMERGENCY = "emergency"
GUARD, MODEL, INTENT = "guard", "model", "intent"
SOURCES = (GUARD, MODEL, INTENT)
# The intent classifier's `emergency` counts on its own only when it is this sure: its few
# examples make it keyword-driven, and below this it added false alarms on the held-out set
# without catching anything the guard and the model missed.
INTENT_MIN_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Assessment:
    """One message's risk: the model's label and score, the level answered at, the kind given."""

    label: str = NONE  # the model's likeliest class
    score: float = 0.0  # the model's probability of any risk (1.0 for a red flag)
    level: str = NONE  # none, moderate or high
    kind: str | None = None  # acute, crisis or unclear (None when there is no risk)
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def alerting(self) -> bool:
        """Whether the visitor is given the numbers (level high or moderate)."""
        return self.level in ALERT_LEVELS

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
    kind: str | None = None
    if flag is not None:
        level, kind, score = HIGH, _flag_kind(flag, reading), 1.0
    elif model_level == HIGH or (model_level == MODERATE and by_intent):
        level, kind = HIGH, _kind(reading)
    elif model_level == MODERATE or by_intent:
        level, kind = MODERATE, _kind(reading)
    else:
        level = NONE
    return Assessment(label, score, level, kind, sources)


def _flag_kind(flag: RedFlag, reading: RiskReading | None) -> str:
    """The red flag's kind, or unclear when the model is sure of the other kind."""
    if reading is None or reading.level() == NONE or reading.kind in (flag.kind, UNCLEAR):
        return flag.kind
    return UNCLEAR


def _kind(reading: RiskReading | None) -> str:
    """The model's kind when it reads risk itself, else unclear (both numbers)."""
    return UNCLEAR if reading is None or reading.level() == NONE else reading.kind


def stored_assessment(parse_data: dict[str, Any] | None) -> Assessment | None:
    """The assessment stored in a message's parse data; None when absent or malformed."""
    raw = (parse_data or {}).get(RISK)
    if not isinstance(raw, dict):
        return None
    label, level, score = raw.get("label"), raw.get("level"), raw.get("score")
    if label not in LABELS or level not in LEVELS or not _probability(score):
        return None
    kind, sources = raw.get("kind"), raw.get("sources")
    named = [s for s in sources if s in SOURCES] if isinstance(sources, list) else []
    return Assessment(
        label=label,
        score=float(score or 0.0),
        level=level,
        kind=kind if kind in KINDS else None,
        sources=tuple(dict.fromkeys(named)),
    )


def from_parse_data(parse_data: dict[str, Any] | None) -> Assessment:
    """The stored assessment, or no risk when there is none."""
    return stored_assessment(parse_data) or Assessment()


def _probability(value: Any) -> bool:
    """Whether `value` is a number from 0 to 1 (not a bool, not NaN)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and not math.isnan(value) and 0.0 <= value <= 1.0
