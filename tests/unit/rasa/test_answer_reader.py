"""The NLU component that lets a confident answer to the open question win over the intent."""

from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot.intake.answer_model import NONE, Reading
from bot.rasa.nlu.answers import AnswerReader
from bot.rasa.nlu.guard import MessageGuard

ROOT = Path(__file__).resolve().parents[3]


class FixedReadings:
    """An answer model whose readings the test chooses (the decision logic is under test)."""

    def __init__(self, **readings: tuple[str, float]) -> None:
        self.readings = {
            q: Reading(*readings.get(q, (NONE, 0.9)))
            for q in ("scope", "decisions", "need", "support")
        }

    def read(self, text: str) -> dict[str, Reading]:
        return self.readings


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker(domain: Domain, loop: str | None = None, **slots: Any) -> DialogueStateTracker:
    events = [ActiveLoop(loop)] if loop else []
    events += [SlotSet(name, value) for name, value in slots.items()]
    return DialogueStateTracker.from_events("visitor", events, slots=domain.slots)


def classified(text: str, intent: str, confidence: float = 0.8) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    message.set("entities", [])
    return message


def reader(**readings: tuple[str, float]) -> AnswerReader:
    return AnswerReader({}, None, None, FixedReadings(**readings))  # type: ignore[arg-type]


def test_confident_answer_to_the_open_question_wins_over_the_intent(domain: Domain) -> None:
    message = classified("a clear yes or no from a specialist", "delete_my_data", 0.8)
    state = tracker(domain, "assessment_form", requested_slot="need")
    reader(need=("answer", 0.91)).process([message], state)
    assert message.get("intent") == {"name": "inform", "confidence": 0.91}
    assert message.get("intent_ranking")[1]["name"] == "delete_my_data"  # kept for staff review
    entity = message.get("entities")[0]
    assert (entity["entity"], entity["value"], entity["extractor"]) == (
        "need",
        "answer",
        "AnswerReader",
    )
    assert message.get("open_question") == "need"
    assert message.get("answers")["need"] == {"value": "answer", "confidence": 0.91}


def test_unsure_reading_leaves_the_intent_alone(domain: Domain) -> None:
    message = classified("how much is it?", "ask_cost", 0.95)
    state = tracker(domain, "assessment_form", requested_slot="need")
    reader(need=("answer", 0.3)).process([message], state)
    assert message.get("intent")["name"] == "ask_cost"
    assert message.get("entities") == []


def test_none_reading_leaves_the_intent_alone(domain: Domain) -> None:
    message = classified("what does a navigator do?", "ask_advocacy")
    reader(need=(NONE, 0.97)).process(
        [message], tracker(domain, "assessment_form", requested_slot="need")
    )
    assert message.get("intent")["name"] == "ask_advocacy"


def test_no_override_when_no_question_is_open(domain: Domain) -> None:
    message = classified("my wife helps a lot", "ask_both")
    reader(support=("has_support", 0.99)).process([message], tracker(domain))
    assert message.get("intent")["name"] == "ask_both"


def test_correction_changes_an_earlier_answer(domain: Domain) -> None:
    message = classified("Actually, my sister does help", "ask_both")
    state = tracker(domain, support="alone", recommendation="both")
    reader(support=("has_support", 0.9)).process([message], state)
    assert message.get("intent")["name"] == "correct_answer"
    assert message.get("entities")[0]["value"] == "has_support"


def test_correction_of_another_question_while_one_is_open(domain: Domain) -> None:
    message = classified("wait, it's more than one decision", "inform")
    state = tracker(domain, "assessment_form", requested_slot="need", decisions="one_time")
    reader(decisions=("many", 0.88), need=(NONE, 0.9)).process([message], state)
    assert message.get("intent")["name"] == "correct_answer"
    assert message.get("entities")[0]["entity"] == "decisions"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("my sister comes to appointments", {"support": "alone"}),  # no sign of a correction
        ("actually my sister helps", {"support": "has_support"}),  # nothing changes
        ("actually my sister helps", {}),  # nothing to correct yet
    ],
)
def test_not_a_correction(domain: Domain, text: str, slots: dict[str, str]) -> None:
    message = classified(text, "thank")
    reader(support=("has_support", 0.95)).process([message], tracker(domain, **slots))
    assert message.get("intent")["name"] == "thank"


def test_no_correction_while_contact_details_are_collected(domain: Domain) -> None:
    message = classified("actually my sister helps", "inform")
    state = tracker(domain, "lead_form", requested_slot="lead_name", support="alone")
    reader(support=("has_support", 0.95)).process([message], state)
    assert message.get("intent")["name"] == "inform"
    assert message.get("answers") is None  # nothing read: it could not matter


def test_red_flag_still_wins_over_a_confident_answer(domain: Domain) -> None:
    message = classified("it's just me and i want to end my life", "emergency", 0.9)
    state = tracker(domain, "assessment_form", requested_slot="support")
    reader(support=("alone", 0.97)).process([message], state)
    MessageGuard().process([message])
    assert message.get("intent")["name"] == "emergency"
    entities = message.get("entities")
    assert any(e["entity"] == "red_flag" and e["value"] == "crisis" for e in entities)
    # the emergency comes first; the answer rides along, kept with the paused form
    assert any(e["entity"] == "support" and e["value"] == "alone" for e in entities)


def test_button_payloads_are_not_read(domain: Domain) -> None:
    message = classified('/inform{"need": "answer"}', "inform", 1.0)
    state = tracker(domain, "assessment_form", requested_slot="need")
    reader(need=("navigate", 0.99)).process([message], state)
    assert message.get("answers") is None and message.get("entities") == []


def test_a_reply_to_a_confirmation_is_not_read_as_an_answer(domain: Domain) -> None:
    from rasa.shared.core.events import ActionExecuted

    state = tracker(domain, "assessment_form", requested_slot="scope")
    state.update(ActionExecuted("utter_confirm_stop"))
    state.update(ActionExecuted("action_listen"))
    message = classified("no keep going", "deny", 0.9)
    reader(scope=("complex", 0.8)).process([message], state)
    assert message.get("intent")["name"] == "deny"
