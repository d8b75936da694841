"""An NLU component that weighs every risk detector and lets the checks override the classifier.

The red-flag guard, the risk model's reading (`bot.rasa.nlu.risk.RiskReader`, earlier in the
pipeline) and the intent classifier's `emergency` combine into one assessment
(`bot.intake.risk.assess`), stored as `risk` in the parse data. High risk becomes the `emergency`
intent with a `red_flag` entity naming the kind; moderate risk keeps the normal reading (the
numbers are sent first by `bot.rasa.runtime.safety_note`). An `emergency` intent that is not high
risk gives way to the next intent, so only the assessment decides on the full emergency reply.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.intake.emergency import RED_FLAG
from bot.intake.risk import HIGH, RISK, Assessment, assess
from bot.intake.safety import default_guard
from bot.rasa.nlu.risk import READING

EMERGENCY = "emergency"
OTHER_LANGUAGE = "other_language"
GUARD = "MessageGuard"
MIN_FOREIGN_LETTERS = 2
FALLBACK_THRESHOLD = 0.4  # as the FallbackClassifier's in config.yml


def is_non_latin(text: str) -> bool:
    """True when most letters are outside the Latin script (e.g. Cyrillic, CJK, Arabic)."""
    letters = [ch for ch in text if ch.isalpha()]
    foreign = [ch for ch in letters if "LATIN" not in unicodedata.name(ch, "")]
    return len(foreign) >= MIN_FOREIGN_LETTERS and len(foreign) * 2 > len(letters)


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit."""
    return any(ch.isalnum() for ch in text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MessageGuard(GraphComponent):
    """Risk wins over everything; empty or emoji-only text falls back; scripts we don't read
    are other_language."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageGuard:
        """Create the component (it needs no training)."""
        return cls()

    def __init__(self) -> None:
        """Load the red-flag patterns once."""
        self._red_flags = default_guard()

    def process(self, messages: list[Message]) -> list[Message]:
        """Apply the overrides to each message."""
        for message in messages:
            self._guard(message)
        return messages

    def _guard(self, message: Message) -> None:
        """Override the intent of one message where a deterministic check or the risk applies."""
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        risk = assess(
            self._red_flags.check(text),
            message.get(READING),
            intent.get(INTENT_NAME_KEY),
            float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
        )
        if text and not text.startswith("/"):
            message.set(RISK, risk.as_dict(), add_to_output=True)
        if risk.level == HIGH:
            _mark_emergency(message, risk, len(text))
        elif intent.get(INTENT_NAME_KEY) == EMERGENCY:  # too unsure to be high risk on its own
            _next_intent(message)
        elif not has_words(text):
            _set_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        elif is_non_latin(text):
            _set_intent(message, OTHER_LANGUAGE)


def _mark_emergency(message: Message, risk: Assessment, length: int) -> None:
    """Make the message `emergency`, with the kind as a red-flag entity.

    An answer the answer model read from the same words stays on the message: the emergency
    reply comes first and pauses the form, which keeps the answer for when the visitor carries
    on, so a false alarm costs one message.
    """
    _set_intent(message, EMERGENCY)
    kept = message.get(ENTITIES, [])
    entity = {
        "entity": RED_FLAG,
        "value": risk.kind,
        "start": 0,
        "end": length,
        "confidence_entity": round(risk.score, 4),
        "extractor": GUARD,
        "sources": list(risk.sources),
    }
    message.set(ENTITIES, [*kept, entity], add_to_output=True)


def _next_intent(message: Message) -> None:
    """Replace an unsure `emergency` with the next intent, or the fallback when none is sure."""
    ranking = [
        r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != EMERGENCY
    ]
    best = ranking[0] if ranking else None
    if best is None or float(best.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < FALLBACK_THRESHOLD:
        _set_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        return
    message.set(INTENT, dict(best), add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def _set_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, keeping the ranking."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
