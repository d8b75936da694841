"""An NLU component that lets deterministic checks override the classifier."""

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

from bot.emergency import RED_FLAG
from bot.safety import default_guard

EMERGENCY = "emergency"
ANSWER_READER = "AnswerReader"  # bot.nlu.answers.READER (not imported: no cycle, no sklearn)
OTHER_LANGUAGE = "other_language"
GUARD = "MessageGuard"
MIN_FOREIGN_LETTERS = 2


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
    """Red flags win over everything; empty or emoji-only text falls back; scripts we don't read are other_language."""  # noqa: E501

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
        """Override the intent of one message where a deterministic check applies."""
        text = message.get(TEXT) or ""
        flag = self._red_flags.check(text)
        if flag is not None:
            _set_intent(message, EMERGENCY)
            # An answer read from the same words is not taken: the emergency comes first.
            kept = [e for e in message.get(ENTITIES, []) if e.get("extractor") != ANSWER_READER]
            message.set(ENTITIES, kept, add_to_output=True)
            entity = {
                "entity": RED_FLAG,
                "value": flag.kind,
                "start": 0,
                "end": len(text),
                "confidence_entity": 1.0,
                "extractor": GUARD,
                "category": flag.category,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        elif not has_words(text):
            _set_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        elif is_non_latin(text):
            _set_intent(message, OTHER_LANGUAGE)


def _set_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, keeping the ranking."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
