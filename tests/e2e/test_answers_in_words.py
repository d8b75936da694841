"""The assessment answered in words, against the real servers: held-out answers, whole
conversations, false alarms and answers that hold destructive words."""

from pathlib import Path
from typing import Any

import pytest

from bot.intake.recommendation import SIDES
from tests.support.assessment import (
    accuracy,
    button,
    destructive_outcomes,
    false_alarms,
    heldout_confusions,
    load,
    new_sender,
    open_question,
    payloads,
)
from tests.support.servers import Servers

pytestmark = pytest.mark.e2e

CONVERSATIONS = Path(__file__).with_name("conversations_in_words.yml")
MAX_FALSE_ALARMS = 0.1  # safety first: a suspected risk gives the numbers
MIN_ACCURACY = 0.95
MAX_TURNS = 14


def test_heldout_answers_per_question(servers: Servers) -> None:
    """Every question's held-out answers (never trained on) are read at >= 95% accuracy."""
    confusions = heldout_confusions(servers)
    for question, confusion in confusions.items():
        print(f"{question}: {accuracy(confusion):.3f} {dict(confusion)}")
    assert {q: accuracy(c) >= MIN_ACCURACY for q, c in confusions.items()} == dict.fromkeys(
        confusions, True
    )


CONVERSATION_SET = load(CONVERSATIONS)["conversations"]


@pytest.mark.parametrize("conversation", CONVERSATION_SET, ids=lambda c: c["name"])
def test_whole_assessment_in_words(servers: Servers, conversation: dict[str, Any]) -> None:
    """Only typed words, whatever order the bot asks in; the expected recommendation at the end."""
    sender = new_sender("words")
    for text in conversation["opening"]:
        servers.send(sender, text)
    side = conversation.get("side")
    answers = conversation["answers"]
    for _ in range(MAX_TURNS):
        question = open_question(servers, sender)
        if question is None:
            break
        assert question in answers, f"the bot asked {question!r}"
        if side and side["question"] == question:
            replies = servers.send(sender, side["text"])
            side = None
            assert open_question(servers, sender) == question  # the side question is answered
            assert {button(question, v) for v in SIDES[question]} <= payloads(replies)
        servers.send(sender, answers[question]["text"])
    state = servers.tracker(sender)["slots"]
    assert {q: state[q] for q in answers} == {q: a["value"] for q, a in answers.items()}
    assert state["recommendation"] == conversation["expected"]


def test_false_alarms_are_rare_and_cost_one_message(servers: Servers) -> None:
    """Ordinary answers about being alone, past illness or idioms rarely get 911/988, and when
    they do the visitor carries on where they were, answers kept."""
    alarms, notes, lost, total = false_alarms(servers)
    print(f"false alarms: {len(alarms)}/{total}; of them one-line safety notes: {notes}")
    assert total >= 60 and lost == []
    assert len(alarms) / total <= MAX_FALSE_ALARMS, alarms


def test_destructive_words_in_answers_never_delete_cancel_or_end(servers: Servers) -> None:
    """Answers holding yes/no/clear/delete/cancel/stop/bye words are answers, nothing more."""
    harmed, correct, total = destructive_outcomes(servers)
    print(f"destructive-word answers read as the right answer: {correct}/{total}")
    assert total >= 40 and harmed == []
    assert correct / total >= MIN_ACCURACY - 0.05
