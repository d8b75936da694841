"""NLU component: the learned risk model, read on every visitor message.

It attaches the model's reading (`bot.intake.risk_model.RiskReading`) to each message, for the
message guard (`bot.rasa.nlu.guard.MessageGuard`, next in the pipeline) to weigh beside the
red-flag patterns and the intent classifier. Training reads `data/safety/*.yml` and, as
background that is never an emergency, the examples of every other intent and the
assessment's own answers.
"""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.intake import risk_model
from bot.intake.answer_model import ANSWERS_DIR, load_examples
from bot.intake.example_files import fingerprint
from bot.intake.risk_model import SAFETY_DIR, RiskModel, load_safety_examples
from bot.rasa.nlu.trained import PickledComponent, code_fingerprint, worded

READING = "risk_reading"  # the model's RiskReading on the message (not in the output)
MODEL_FILE = "risk_model.pkl"
EMERGENCY = "emergency"
# Intents whose examples may describe an emergency: not background for `none`.
NOT_BACKGROUND = frozenset({EMERGENCY})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RiskReader(PickledComponent[RiskModel]):
    """Reads acute / crisis / none with a probability on every message."""

    model_file = MODEL_FILE

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """Where the safety examples and the assessment answers are."""
        return {"directory": str(SAFETY_DIR), "answers": str(ANSWERS_DIR)}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the examples or the model's code change (Rasa sees neither)."""
        code = code_fingerprint(risk_model)
        examples = fingerprint(Path(config.get("directory", SAFETY_DIR)))
        answers = fingerprint(Path(config.get("answers", ANSWERS_DIR)))
        return sha256((examples + answers + code).encode()).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model on the safety examples, other intents and the assessment answers."""
        examples = load_safety_examples(Path(self._config["directory"]))
        background = background_texts(training_data, self._config)
        return self.persist(RiskModel.train(examples, background))

    def process(self, messages: list[Message]) -> list[Message]:
        """Attach the reading to each message with words (button payloads have none)."""
        if self._model is None:
            return messages
        for message, text in worded(messages):
            message.set(READING, self._model.read(text))
        return messages


def background_texts(training_data: TrainingData, config: dict[str, Any]) -> list[str]:
    """Texts that are never emergencies: other intents' examples and assessment answers."""
    intents = [
        str(m.get(TEXT))
        for m in training_data.intent_examples
        if m.get(INTENT) not in NOT_BACKGROUND and m.get(TEXT)
    ]
    answers = load_examples(Path(config["answers"]))
    return intents + [text for pairs in answers.values() for text, _ in pairs]
