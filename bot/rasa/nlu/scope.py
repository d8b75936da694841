"""NLU component: the learned scope model, which sends unrelated requests out of scope.

Where the intent classifier picked one of this firm's topics (a service question, the
assessment, a situation, a booking) but the scope model is sure the request is not the firm's
business, the intent becomes `out_of_scope`, so it never starts the assessment or gets an
unrelated answer. Short conversational turns and answers read by the answer model are left
alone. Risk is not decided here: the message guard, next in the pipeline, weighs the red-flag
patterns and the risk model whatever the intent.
"""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.intake.example_files import fingerprint
from bot.intake.scope_model import (
    OUT,
    SCOPE_DIR,
    THRESHOLD,
    ScopeModel,
    load_scope_examples,
)
from bot.rasa.nlu.risk import background_texts
from bot.rasa.nlu.trained import PickledComponent, code_fingerprint, worded

SCOPE = "out_of_scope_probability"  # in the parse data
MODEL_FILE = "scope_model.pkl"
# Intents the scope model never overrides: conversational turns, answers and safety.
KEPT = frozenset(
    {"greet", "goodbye", "affirm", "deny", "thank", "stop", "inform", "correct_answer"}
    | {"other_language", "carry_on", "bot_challenge", OUT}
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ScopeReader(PickledComponent[ScopeModel]):
    """Turns a confident out-of-scope reading into the `out_of_scope` intent."""

    model_file = MODEL_FILE

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """How sure the model must be, where the assessment answers and the look-alikes are."""
        from bot.intake.answer_model import ANSWERS_DIR

        return {"threshold": THRESHOLD, "answers": str(ANSWERS_DIR), "directory": str(SCOPE_DIR)}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the answers, the look-alikes or the code change (Rasa sees none)."""
        from bot.intake import scope_model

        config = {**cls.get_default_config(), **config}
        code = code_fingerprint(scope_model)
        answers = fingerprint(Path(config["answers"]))
        extra = fingerprint(Path(config["directory"]))
        return sha256((answers + extra + code).encode()).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the out_of_scope examples against everything else."""
        outside = [str(m.get(TEXT)) for m in training_data.intent_examples if m.get(INTENT) == OUT]
        outside += load_scope_examples(Path(self._config["directory"]))
        inside = [t for t in background_texts(training_data, self._config) if t not in outside]
        return self.persist(ScopeModel.train(outside, inside))

    def process(self, messages: list[Message]) -> list[Message]:
        """Read each message with words; make a confident out-of-scope reading the intent."""
        if self._model is None:
            return messages
        for message, text in worded(messages):
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in KEPT:
                continue
            probability = self._model.out_of_scope(text)
            message.set(SCOPE, round(probability, 4), add_to_output=True)
            if probability >= self._config["threshold"]:
                _set_out_of_scope(message, probability)
        return messages


def _set_out_of_scope(message: Message, probability: float) -> None:
    """Make `out_of_scope` the intent, keeping the classifier's ranking after it."""
    chosen = {INTENT_NAME_KEY: OUT, PREDICTED_CONFIDENCE_KEY: probability}
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != OUT]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
