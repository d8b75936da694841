"""The assessment: starting it, filling its four slots from buttons or words, recommending."""

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import TrackerAction
from actions.messages import INTERRUPTIONS, is_fresh_reply, latest_entities, latest_intent
from bot.intake.assessment_flow import (
    PREFILL,
    PREFILL_OK,
    REASK,
    confirm_prefill_buttons,
    intro_text,
    next_reask,
    proposal_of,
    proposal_text,
)
from bot.intake.explanations import ANSWER_PHRASES, explain
from bot.intake.recommendation import ASSESSMENT_SLOTS, SIDES, recommend
from bot.intake.situations import situation_for_intent

OFFER_BUTTONS = [
    {"title": "Book the free call", "payload": "/book_call"},
    {"title": "Talk to a person", "payload": "/request_human"},
]
CORRECT_ANSWER = "correct_answer"
# Rasa lets the form try every message first; these make it step aside for the rules.
ASSESSMENT_INTERRUPTIONS = INTERRUPTIONS | {"goodbye", CORRECT_ANSWER}


def reset_events() -> list[EventType]:
    """Events that clear a previous assessment's answers, outcome and pending proposal."""
    slots = (*ASSESSMENT_SLOTS, "recommendation", REASK, PREFILL, PREFILL_OK)
    return [SlotSet(slot, None) for slot in slots]


def answer_from_entities(tracker: Tracker, slot: str) -> str | None:
    """A slot value carried by a button payload or read by the answer model, if valid."""
    for value in latest_entities(tracker, slot):
        if value in SIDES[slot]:
            return value
    return None


def situation_proposal(tracker: Tracker) -> dict[str, str]:
    """Answers a situation described mid-assessment implies, only for questions still open."""
    situation = situation_for_intent(latest_intent(tracker))
    if situation is None:
        return {}
    return {k: v for k, v in situation.prefill.items() if tracker.get_slot(k) is None}


class ActionStartAssessment(TrackerAction):
    """Introduce the assessment; apply answers the visitor just confirmed, or start clean."""

    action_name = "action_start_assessment"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Say what is coming, reset stale answers and apply a confirmed proposal."""
        proposal = proposal_of(tracker.get_slot(PREFILL))
        confirmed = latest_intent(tracker) == "affirm" and bool(proposal)
        if tracker.get_slot("recommendation") or confirmed:
            events = reset_events()
            known = {}
        else:
            events = [SlotSet(REASK, None), SlotSet(PREFILL, None)]
            known = {s: tracker.get_slot(s) for s in ASSESSMENT_SLOTS}
            known = {s: v for s, v in known.items() if v in SIDES[s]}
        if confirmed:
            known = proposal
            events += [SlotSet(slot, value) for slot, value in proposal.items()]
        dispatcher.utter_message(text=intro_text(list(known.values())))
        return events


class ActionAskPrefillOk(TrackerAction):
    """Show what a described situation implies and ask the visitor to confirm it."""

    action_name = "action_ask_prefill_ok"  # the form asks `prefill_ok` with it

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """One message with the understood answers and yes / answer-myself buttons."""
        proposal = proposal_of(tracker.get_slot(PREFILL))
        dispatcher.utter_message(text=proposal_text(proposal), buttons=confirm_prefill_buttons())
        return []


class ValidateAssessmentForm(FormValidationAction):
    """Fill the assessment slots from buttons or the answer model; re-ask what it cannot read."""

    def name(self) -> str:
        """Action name."""
        return "validate_assessment_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Read the visitor's reply to the requested question."""
        slot = tracker.get_slot("requested_slot")
        if not is_fresh_reply(tracker):
            return []
        if slot == PREFILL_OK:
            return prefill_reply_events(tracker)
        if slot not in SIDES:
            return []
        intent = latest_intent(tracker)
        if intent == "emergency":
            return []  # the safety rules answer (911/988, or ask whether anyone is in danger)
        value = answer_from_entities(tracker, slot)
        if value is not None:
            return [SlotSet(slot, value)]
        if intent == CORRECT_ANSWER and corrected_answer(tracker) is None:
            return [SlotSet(slot, None)]  # nothing read to correct: ask the open question again
        proposal = situation_proposal(tracker)
        if proposal:
            return [SlotSet(PREFILL, proposal), SlotSet("requested_slot", PREFILL_OK)]
        if intent in ASSESSMENT_INTERRUPTIONS:
            return []
        return [SlotSet(slot, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Pass answers on; flag an unreadable answer so the question is asked again, clearer."""
        candidates = tracker.slots_to_validate()
        kept = {*SIDES, PREFILL, PREFILL_OK, "requested_slot"}
        events = [SlotSet(k, v) for k, v in candidates.items() if k in kept]
        requested = tracker.get_slot("requested_slot")
        if requested in SIDES and requested in candidates:
            if candidates[requested] is None:
                marker = next_reask(requested, tracker.get_slot(REASK))
                return [*events, SlotSet(REASK, marker)]
            return [*events, SlotSet(REASK, None)]
        return events


def prefill_reply_events(tracker: Tracker) -> list[EventType]:
    """Apply the proposed answers on yes; drop them on no or anything else (the form asks)."""
    intent = latest_intent(tracker)
    if intent in ASSESSMENT_INTERRUPTIONS:
        return []  # a side question: answered by the rules, then the confirmation is asked again
    proposal = proposal_of(tracker.get_slot(PREFILL))
    events: list[EventType] = [SlotSet(PREFILL, None), SlotSet(PREFILL_OK, None)]
    if intent == "affirm":
        events += [SlotSet(k, v) for k, v in proposal.items() if tracker.get_slot(k) is None]
    return events


class ActionRecommend(TrackerAction):
    """Apply the recommendation rule and explain it in the visitor's own terms."""

    action_name = "action_recommend"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Set `recommendation` and send the explanation with the offer of the call."""
        answers = {slot: tracker.get_slot(slot) for slot in ASSESSMENT_SLOTS}
        return recommend_events(dispatcher, answers)


def recommend_events(dispatcher: CollectingDispatcher, answers: dict[str, Any]) -> list[EventType]:
    """Send the recommendation for complete answers, with the offer of the call."""
    rec = recommend(answers)
    lines = explain(rec, answers)
    for line in lines[:-1]:
        dispatcher.utter_message(text=line)
    dispatcher.utter_message(
        text=f"{lines[-1]} Would you like to talk it through on a free 15-minute call?",
        buttons=OFFER_BUTTONS,
    )
    return [SlotSet("recommendation", rec.kind), SlotSet(REASK, None)]


class ActionCorrectAnswer(TrackerAction):
    """Change an answer the visitor corrects, and the recommendation with it."""

    action_name = "action_correct_answer"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Set the corrected answer; re-explain the outcome if the assessment was complete."""
        change = corrected_answer(tracker)
        if change is None:
            dispatcher.utter_message(text=CORRECTION_HELP)
            return []
        slot, value = change
        answers = {s: tracker.get_slot(s) for s in ASSESSMENT_SLOTS} | {slot: value}
        said = f"Thanks, I've changed that: {ANSWER_PHRASES[value]}."
        previous = tracker.get_slot("recommendation")
        if tracker.active_loop.get("name") or not previous or None in answers.values():
            dispatcher.utter_message(text=said)
            return [SlotSet(slot, value)]
        same = recommend(answers).kind == previous
        outcome = "My suggestion stays the same." if same else "That changes my suggestion."
        dispatcher.utter_message(text=f"{said} {outcome}")
        return [SlotSet(slot, value), *recommend_events(dispatcher, answers)]


CORRECTION_HELP = (
    'No problem. Tell me what\'s different, for example "actually, my sister does help", '
    "or start the questions again."
)


def corrected_answer(tracker: Tracker) -> tuple[str, str] | None:
    """The (question, value) the answer model read as a correction in the latest message."""
    for slot in ASSESSMENT_SLOTS:
        value = answer_from_entities(tracker, slot)
        if value is not None:
            return slot, value
    return None
