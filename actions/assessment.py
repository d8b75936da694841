"""The assessment: starting it, filling its four slots from buttons or words, recommending."""

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import (
    INTERRUPTIONS,
    is_fresh_reply,
    latest_entities,
    latest_intent,
    latest_text,
    validated_with_reask,
)
from bot.answers import map_answer
from bot.explanations import ANSWER_PHRASES, explain, join_phrases
from bot.recommendation import ASSESSMENT_SLOTS, SIDES, recommend
from bot.situations import situation_for_intent

REASK = "assessment_reask"

OFFER_BUTTONS = [
    {"title": "Book the free call", "payload": "/book_call"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def reset_events() -> list[EventType]:
    """Events that clear a previous assessment's answers and outcome."""
    return [SlotSet(slot, None) for slot in (*ASSESSMENT_SLOTS, "recommendation", REASK)]


def answer_from_entities(tracker: Tracker, slot: str) -> str | None:
    """A slot value carried by a button payload's entity, if valid."""
    for value in latest_entities(tracker, slot):
        if value in SIDES[slot]:
            return value
    return None


def situation_prefill(tracker: Tracker) -> dict[str, Any]:
    """Slots implied by a situation described mid-assessment, only where still empty."""
    situation = situation_for_intent(latest_intent(tracker))
    if situation is None:
        return {}
    filled = {k: v for k, v in situation.prefill.items() if tracker.get_slot(k) is None}
    return {**filled, "situation": situation.name} if filled else {}


class ActionStartAssessment(Action):
    """Introduce the assessment, clearing a finished one and naming pre-filled answers."""

    def name(self) -> str:
        """Action name."""
        return "action_start_assessment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say what is coming and reset stale answers."""
        if tracker.get_slot("recommendation"):
            dispatcher.utter_message(text=intro_text([]))
            return reset_events()
        known = [s for s in ASSESSMENT_SLOTS if tracker.get_slot(s) in SIDES[s]]
        dispatcher.utter_message(text=intro_text([tracker.get_slot(s) for s in known]))
        return [SlotSet(REASK, None)]


def intro_text(known_values: list[str]) -> str:
    """The assessment's opening line, mentioning answers already understood."""
    remaining = len(ASSESSMENT_SLOTS) - len(known_values)
    count = "one quick question" if remaining == 1 else f"{remaining} quick questions"
    text = f"Let's work it out together: {count}, tap a button or answer in your own words."
    if known_values:
        understood = join_phrases([ANSWER_PHRASES[v] for v in known_values])
        text += f" From what you've told me, I understand {understood}."
    return text


class ValidateAssessmentForm(FormValidationAction):
    """Fill the assessment slots from buttons or free text; re-ask what it cannot map."""

    def name(self) -> str:
        """Action name."""
        return "validate_assessment_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Read the visitor's reply to the requested question."""
        slot = tracker.get_slot("requested_slot")
        if slot not in SIDES or not is_fresh_reply(tracker):
            return []
        intent = latest_intent(tracker)
        if intent == "emergency":
            return []
        value = answer_from_entities(tracker, slot) or map_answer(slot, latest_text(tracker))
        if value is not None:
            return [SlotSet(slot, value)]
        prefill = situation_prefill(tracker)
        if prefill:
            return [SlotSet(k, v) for k, v in prefill.items()]
        if intent in INTERRUPTIONS:
            return []
        return [SlotSet(slot, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Flag an unreadable answer so the question is asked again more clearly."""
        return validated_with_reask(tracker, REASK, lambda k: k in SIDES or k == "situation")


class ActionRecommend(Action):
    """Apply the recommendation rule and explain it in the visitor's own terms."""

    def name(self) -> str:
        """Action name."""
        return "action_recommend"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Set `recommendation` and send the explanation with the offer of the call."""
        answers = {slot: tracker.get_slot(slot) for slot in ASSESSMENT_SLOTS}
        rec = recommend(answers)
        lines = explain(rec, answers)
        for line in lines[:-1]:
            dispatcher.utter_message(text=line)
        dispatcher.utter_message(
            text=f"{lines[-1]} Would you like to talk it through on a free 15-minute call?",
            buttons=OFFER_BUTTONS,
        )
        return [SlotSet("recommendation", rec.kind), SlotSet(REASK, None)]
