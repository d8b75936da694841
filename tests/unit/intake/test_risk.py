"""The risk assessment: detectors combined, the model's reading, the data and its held-out set."""

from pathlib import Path

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.intake.emergency import SAFETY_NOTE
from bot.intake.risk import assess, from_parse_data
from bot.intake.risk_model import (
    RiskReading,
    SafetyExample,
    check_labels,
    load_safety_examples,
    parse_safety_file,
    segments,
)
from bot.intake.safety import RedFlag
from bot.rasa.runtime.safety_note import note_events

ROOT = Path(__file__).resolve().parents[3]
CRISIS_FLAG = RedFlag("crisis", "suicidal_thoughts", "kill myself")


def reading(acute: float, crisis: float) -> RiskReading:
    return RiskReading(acute, crisis)


def test_a_red_flag_is_high_risk_whatever_the_model_says() -> None:
    risk = assess(CRISIS_FLAG, reading(0.01, 0.01), "ask_cost", 0.9)
    assert (risk.level, risk.kind, risk.sources) == ("high", "crisis", ("guard",))


def test_a_red_flag_and_a_sure_reading_of_the_other_kind_give_both_numbers() -> None:
    acute_flag = RedFlag("acute", "overdose", "overdose")
    assert assess(acute_flag, reading(0.02, 0.95), None, 0.0).kind == "unclear"
    assert assess(acute_flag, reading(0.9, 0.02), None, 0.0).kind == "acute"


def test_a_confident_reading_is_high_risk_with_its_kind() -> None:
    risk = assess(None, reading(0.9, 0.02), "ask_cost", 0.9)
    assert (risk.level, risk.kind) == ("high", "acute")


def test_a_less_sure_reading_is_moderate_and_both_kinds_likely_is_unclear() -> None:
    risk = assess(None, reading(0.3, 0.3), "greet", 0.9)
    assert (risk.level, risk.kind) == ("moderate", "unclear")


def test_the_intent_alone_is_moderate_and_with_the_model_high() -> None:
    alone = assess(None, reading(0.0, 0.01), "emergency", 0.97)
    assert (alone.level, alone.kind, alone.sources) == ("moderate", "unclear", ("intent",))
    both = assess(None, reading(0.0, 0.55), "emergency", 0.97)
    assert (both.level, both.kind) == ("high", "crisis")


def test_an_unsure_emergency_intent_and_a_calm_reading_are_no_risk() -> None:
    risk = assess(None, reading(0.05, 0.05), "emergency", 0.3)
    assert not risk.alerting and risk.kind is None


def test_the_assessment_round_trips_through_parse_data() -> None:
    risk = assess(None, reading(0.125, 0.75), "greet", 0.9)
    assert from_parse_data({"risk": risk.as_dict()}) == risk
    assert not from_parse_data({"risk": {"level": "bogus"}}).alerting
    assert not from_parse_data(None).alerting


def test_long_messages_are_also_read_sentence_by_sentence() -> None:
    text = "We want a second opinion. He just collapsed and isn't breathing! What does it cost?"
    parts = segments(text)
    assert parts[0] == text and "He just collapsed and isn't breathing!" in parts
    assert segments("cant breathe") == ["cant breathe"]


def test_the_safety_note_goes_first_for_moderate_risk_only() -> None:
    def tracker(level: str) -> DialogueStateTracker:
        stored = {"level": level, "label": "crisis", "score": 0.6}
        parse = {"intent": {"name": "ask_cost"}, "entities": [], "risk": stored}
        events = [ActionExecuted("action_listen"), UserUttered("x", parse["intent"], [], parse)]
        return DialogueStateTracker.from_events("s", events)

    assert [e.text for e in note_events(tracker("moderate"))] == [SAFETY_NOTE]
    assert note_events(tracker("high")) == [] and note_events(tracker("none")) == []
    assert "911" in SAFETY_NOTE and "988" in SAFETY_NOTE and "?" not in SAFETY_NOTE


def test_a_safety_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("label: maybe\ncategories: {a: [x]}\n")
    with pytest.raises(ValueError, match="label"):
        parse_safety_file(bad)
    bad.write_text("label: acute\ncategories: {a: x}\n")
    with pytest.raises(ValueError, match="list"):
        parse_safety_file(bad)
    with pytest.raises(ValueError, match="no risk examples"):
        check_labels([SafetyExample("x", "acute", "a")])


def test_the_training_data_is_large_and_varied() -> None:
    examples = load_safety_examples()
    by_label = {label: [e for e in examples if e.label == label] for label in ("acute", "crisis")}
    negatives = [e for e in examples if e.label == "none"]
    assert len(by_label["acute"]) >= 500 and len(by_label["crisis"]) >= 400
    assert len(negatives) >= 800
    assert len({e.category for e in by_label["acute"]}) >= 16
    assert len({e.category for e in by_label["crisis"]}) >= 8
    out_of_scope = [
        m
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        for m in RasaYAMLReader().read(path).intent_examples
        if m.get("intent") == "out_of_scope"
    ]
    assert len(out_of_scope) >= 300


def key(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def test_no_held_out_text_is_in_training() -> None:
    heldout = yaml.safe_load((ROOT / "tests" / "nlu" / "safety_heldout.yml").read_text())
    oos = yaml.safe_load((ROOT / "tests" / "nlu" / "out_of_scope_heldout.yml").read_text())
    held = {key(i["text"]) for i in heldout["risk"] + heldout["negatives"]}
    held |= {key(t) for t in oos["examples"]}
    training = {key(e.text) for e in load_safety_examples()}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        training |= {key(m.get("text")) for m in RasaYAMLReader().read(path).intent_examples}
    assert not held & training
