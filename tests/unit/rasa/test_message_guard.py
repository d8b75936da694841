"""The NLU guard that lets deterministic checks override the classifier."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.intake.risk_model import RiskReading
from bot.rasa.nlu.guard import MessageGuard, is_non_latin


def classified(text: str, intent: str = "ask_cost", confidence: float = 0.93) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


@pytest.fixture(scope="module")
def guard() -> MessageGuard:
    return MessageGuard()


def test_red_flag_overrides_the_classifier(guard: MessageGuard) -> None:
    (message,) = guard.process([classified("what does it cost? also my wife can't breathe")])
    assert message.get("intent")["name"] == "emergency"
    assert message.get("intent_ranking")[0]["name"] == "emergency"
    assert {"entity": "red_flag", "value": "acute"}.items() <= message.get("entities")[0].items()


def test_crisis_is_tagged_for_988(guard: MessageGuard) -> None:
    (message,) = guard.process([classified("i keep thinking about killing myself", "greet")])
    assert message.get("entities")[0]["value"] == "crisis"


@pytest.mark.parametrize("text", ["", "   ", "🙏😢", "?!..."])
def test_empty_or_symbol_only_text_falls_back(guard: MessageGuard, text: str) -> None:
    (message,) = guard.process([classified(text, "greet")])
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["мне нужно второе мнение", "我需要第二意见", "أحتاج رأي ثاني"])
def test_non_latin_scripts_are_other_language(guard: MessageGuard, text: str) -> None:
    (message,) = guard.process([classified(text)])
    assert message.get("intent")["name"] == "other_language"


@pytest.mark.parametrize("text", ["what does it cost?", "my mother's café visit, naïve question"])
def test_ordinary_english_is_left_alone(guard: MessageGuard, text: str) -> None:
    (message,) = guard.process([classified(text)])
    assert message.get("intent")["name"] == "ask_cost"


def test_non_latin_needs_a_majority() -> None:
    assert not is_non_latin("I saw Dr. Ωmega")
    assert is_non_latin("Здравствуйте, doctor")


def test_an_unsure_emergency_intent_with_a_calm_reading_gives_way(guard: MessageGuard) -> None:
    message = classified("last spring the ER said it was a panic attack", "emergency", 0.6)
    ranking = [
        {"name": "emergency", "confidence": 0.6},
        {"name": "ask_second_opinion", "confidence": 0.3},
    ]
    message.set("intent_ranking", ranking)
    message.set("risk_reading", RiskReading(0.02, 0.01))
    (message,) = guard.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"  # the next intent is too unsure
    assert message.get("risk")["level"] == "none"


def test_a_sure_reading_makes_any_intent_an_emergency(guard: MessageGuard) -> None:
    message = classified("he went grey and is gasping, what does a review cost", "ask_cost")
    message.set("risk_reading", RiskReading(0.93, 0.02))
    (message,) = guard.process([message])
    assert message.get("intent")["name"] == "emergency"
    assert message.get("risk")["level"] == "high" and message.get("risk")["kind"] == "acute"
