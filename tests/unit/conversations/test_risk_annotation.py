"""The risk annotation of visitor messages as staff see it: transcript, highlight, index flag."""

import pytest
from rasa.shared.core.events import UserUttered

from bot.conversations.summary import summarise
from bot.conversations.transcript import build_transcript
from bot.intake.risk import Assessment as Risk
from bot.intake.risk import stored_assessment as risk_of
from bot.staff.chat import FLAG_LABELS, FLAGGED, MODERATE, POSSIBLE, emergency_label
from tests.support.conversations import Script, emergency_conversation, greeting, stored_events
from tests.support.risk import risk, risky

CRISIS_TEXT = "i keep thinking everyone would be better off without me"


def visitor(annotation, intent: str = "inform"):
    """The one visitor message after the greeting of a conversation, as the transcript reads it."""
    script = greeting(Script())
    risky(script, CRISIS_TEXT, annotation, intent).listen()
    return build_transcript(stored_events(script.events)).visitor_messages()[-1]


def test_a_well_formed_annotation_is_read() -> None:
    message = visitor(risk("crisis", 0.93, "high", "crisis", ("guard", "model")))
    assert message.risk == Risk("crisis", 0.93, "high", "crisis", ("guard", "model"))
    assert message.risk.alerting and message.emergency


def test_older_messages_have_no_risk() -> None:
    message = visitor(None)
    assert message.risk is None and not message.emergency
    assert emergency_label(message) == ""


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "high",
        ["crisis", 0.9],
        {},
        {"label": "crisis", "score": 0.9},  # no level
        {"label": "danger", "score": 0.9, "level": "high"},
        {"label": "crisis", "score": 0.9, "level": "severe"},
        {"label": "crisis", "score": 1.5, "level": "high"},
        {"label": "crisis", "score": -0.1, "level": "high"},
        {"label": "crisis", "score": "0.9", "level": "high"},
        {"label": "crisis", "score": True, "level": "high"},
        {"label": "crisis", "score": float("nan"), "level": "high"},
        {"label": "<b>crisis</b>", "score": 0.9, "level": "high"},
    ],
)
def test_malformed_annotations_count_as_none(raw) -> None:
    assert risk_of({"risk": raw}) is None


def test_unknown_kinds_and_sources_are_dropped() -> None:
    raw = {
        "label": "acute",
        "score": 1,
        "level": "moderate",
        "kind": "<i>x</i>",
        "sources": ["model", "<script>", "model", 3, "intent"],
    }
    assert risk_of({"risk": raw}) == Risk("acute", 1.0, "moderate", None, ("model", "intent"))
    assert risk_of({"risk": {**raw, "sources": "model"}}).sources == ()


def test_level_none_is_shown_but_not_flagged() -> None:
    message = visitor(risk("none", 0.04, "none"))
    assert message.risk is not None and not message.risk.alerting
    assert not message.emergency and emergency_label(message) == ""


@pytest.mark.parametrize(
    ("annotation", "label"),
    [
        (risk("acute", 0.91, "high", "acute"), FLAG_LABELS["acute"]),
        (risk("crisis", 0.88, "high", "crisis"), FLAG_LABELS["crisis"]),
        (risk("crisis", 0.7, "high", "unclear"), FLAGGED),
        (risk("none", 0.35, "moderate", "unclear"), MODERATE),
        (risk("crisis", 0.4, "moderate", "crisis", ("intent",)), MODERATE),
    ],
)
def test_the_highlight_follows_the_level_and_kind(annotation, label) -> None:
    assert emergency_label(visitor(annotation)) == label


def test_a_red_flag_wins_over_the_risk_annotation() -> None:
    events = emergency_conversation()
    flagged = next(e for e in events if isinstance(e, UserUttered) and e.entities)
    flagged.parse_data["risk"] = risk("none", 0.2, "high", "crisis", ("guard",))
    visitors = build_transcript(stored_events(events)).visitor_messages()
    (message,) = [m for m in visitors if m.red_flags]
    assert message.risk is not None and message.risk.kind == "crisis"
    assert emergency_label(message) == FLAG_LABELS["acute"]  # the guard's own kind


def test_an_intent_only_alarm_without_annotation_stays_possible() -> None:
    assert emergency_label(visitor(None, intent="emergency")) == POSSIBLE


@pytest.mark.parametrize(
    ("annotation", "flagged"),
    [
        (risk("crisis", 0.93, "high", "crisis"), True),
        (risk("acute", 0.4, "moderate", "acute"), True),
        (risk("none", 0.05, "none"), False),
        (None, False),
    ],
)
def test_the_index_flags_conversations_with_a_risk_level(annotation, flagged) -> None:
    script = greeting(Script())
    risky(script, CRISIS_TEXT, annotation).listen()
    script.user("thanks", "thank", 0.99).listen()
    assert summarise(stored_events(script.events)).emergency is flagged
