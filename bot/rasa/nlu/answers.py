"""NLU component: the learned answer model, read for the question the visitor was asked.

Every message gets `answers` (the reading for each of the four questions) and
`open_question` in its parse data. While the assessment has a question open, a confident
answer to it becomes the message's intent (`inform` with the value as an entity), whatever
the intent classifier said. Outside an open question, a confident reading that changes an
answer already given, said as a correction, becomes `correct_answer`. The red-flag guard
(`bot.rasa.nlu.guard.MessageGuard`) runs after this component and still wins over both.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.intake.answer_model import (
    ANSWERS_DIR,
    CORRECTION_THRESHOLD,
    THRESHOLD,
    AnswerModel,
    Reading,
    load_examples,
)
from bot.intake.example_files import fingerprint
from bot.intake.recommendation import SIDES
from bot.rasa.nlu.trained import PickledComponent, code_fingerprint

ANSWERS = "answers"
OPEN_QUESTION = "open_question"
INFORM = "inform"
CORRECT_ANSWER = "correct_answer"
ASSESSMENT_FORM = "assessment_form"
# Forms in which a reading may correct an earlier answer (not while typing contact details).
CORRECTABLE_LOOPS = frozenset({None, ASSESSMENT_FORM})
# Bot turns that ask a yes/no question of their own while the assessment waits.
CONFIRMATION_PROMPTS = frozenset(
    {"utter_confirm_stop", "utter_confirm_goodbye", "utter_confirm_delete", "action_emergency"}
)
READER = "AnswerReader"
MODEL_FILE = "answer_model.pkl"
# Intents whose examples are, by definition, not answers to any question: the model learns
# "none" from them as well as from each question's own non-answers.
NOT_ANSWER_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thank",
        "bot_challenge",
        "ask_second_opinion",
        "ask_advocacy",
        "ask_difference",
        "ask_both",
        "request_assessment",
        "book_call",
        "ask_cost",
        "ask_call_details",
        "ask_navigators",
        "request_human",
        "medical_advice",
        "emergency",
        "out_of_scope",
        "cancel_booking",
        "reschedule_booking",
        "delete_my_data",
        "stop",
    }
)
CORRECTION_CUE = re.compile(
    r"\b(?:actually|wait|sorry|oops|i meant|meant to say|correction|on second thought"
    r"|i was wrong|not true|scratch that|in fact|come to think|let me correct|change (?:my|that)"
    r"|i (?:do|did|does) (?:have|get)|(?:does|do) help|i said|i told you|rather)\b",
    re.IGNORECASE,
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class AnswerReader(PickledComponent[AnswerModel]):
    """Reads assessment answers; a confident answer to the open question wins over the intent."""

    model_file = MODEL_FILE

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """Where the examples are and how sure a reading must be."""
        return {
            "directory": str(ANSWERS_DIR),
            "threshold": THRESHOLD,
            "correction_threshold": CORRECTION_THRESHOLD,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the examples or the model's code change (Rasa sees neither)."""
        from pathlib import Path

        examples = fingerprint(Path(config.get("directory", ANSWERS_DIR)))
        return examples + code_fingerprint()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model on the answer examples and the intents that are never answers."""
        from pathlib import Path

        examples = load_examples(Path(self._config["directory"]))
        negatives = [
            m.get(TEXT)
            for m in training_data.intent_examples
            if m.get(INTENT) in NOT_ANSWER_INTENTS and m.get(TEXT)
        ]
        return self.persist(AnswerModel.train(examples, negatives))

    def process(
        self, messages: list[Message], tracker: DialogueStateTracker | None = None
    ) -> list[Message]:
        """Attach the readings; let a confident answer or correction decide the intent."""
        if self._model is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            question = open_question(tracker)
            if (
                not text.strip()
                or text.startswith("/")
                or not _worth_reading(message, question, tracker)
            ):
                continue
            readings = self._model.read(text)
            message.set(ANSWERS, {q: r.as_dict() for q, r in readings.items()}, add_to_output=True)
            message.set(OPEN_QUESTION, question, add_to_output=True)
            self._decide(message, readings, question, tracker)
        return messages

    def _decide(
        self,
        message: Message,
        readings: dict[str, Reading],
        question: str | None,
        tracker: DialogueStateTracker | None,
    ) -> None:
        """Make the message an answer or a correction where the readings say so."""
        if question is not None:
            value = readings[question].taken(self._config["threshold"])
            if value is not None:
                _set_answer(message, INFORM, question, value, readings[question].confidence)
                return
        if tracker is None or tracker.active_loop_name not in CORRECTABLE_LOOPS:
            return
        if not _said_as_correction(message):
            return
        for slot, reading in readings.items():
            value = reading.taken(self._config["correction_threshold"])
            current = tracker.get_slot(slot)
            if slot != question and value is not None and current is not None and current != value:
                _set_answer(message, CORRECT_ANSWER, slot, value, reading.confidence)
                return


def open_question(tracker: DialogueStateTracker | None) -> str | None:
    """The assessment question the visitor was last asked, if the assessment is running.

    None while the bot waits for a yes or no to one of its confirmations: the reply is
    about that, even though the question stays open behind it.
    """
    if tracker is None or tracker.active_loop_name != ASSESSMENT_FORM:
        return None
    last = tracker.get_last_event_for(ActionExecuted, action_names_to_exclude=[ACTION_LISTEN_NAME])
    if last is not None and last.action_name in CONFIRMATION_PROMPTS:
        return None
    slot = tracker.get_slot("requested_slot")
    return slot if slot in SIDES else None


def _worth_reading(
    message: Message, question: str | None, tracker: DialogueStateTracker | None
) -> bool:
    """Read a message only where a reading can matter: an open question, a likely correction,
    or a bare parse request (no conversation, e.g. the HTTP API's /model/parse).
    """
    if question is not None or tracker is None or not tracker.events:
        return True
    return tracker.active_loop_name in CORRECTABLE_LOOPS and _said_as_correction(message)


def _said_as_correction(message: Message) -> bool:
    """Whether the text says it changes something, or the classifier reads it as a correction."""
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    return intent == CORRECT_ANSWER or bool(CORRECTION_CUE.search(message.get(TEXT) or ""))


def _set_answer(message: Message, intent: str, slot: str, value: str, confidence: float) -> None:
    """Make the message `intent` with the answer as an entity, keeping the classifier's ranking."""
    text = message.get(TEXT) or ""
    chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != intent]
    entity = {
        "entity": slot,
        "value": value,
        "start": 0,
        "end": len(text),
        "confidence_entity": confidence,
        "extractor": READER,
    }
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
    message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
