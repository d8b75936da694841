"""Staff answer labels: what a visitor message answers to an assessment question."""

import json
from functools import partial

import pytest
from sqlalchemy.orm import Session

from bot.conversations.review import (
    annotate_answer,
    answer_annotations_for,
    open_question_of,
    reading_of,
)
from bot.db.reviews import AnswerAnnotation
from tests.staff.seed import readings, support_answer, unprompted_remark
from tests.support import labels as shared
from tests.support.conversations import Script, greeting, visitor_event

ANSWER = "it's just me, nobody else is around to help"
REMARK = "honestly it keeps changing every week"
PLAIN = "no idea what to say"  # a message from before the answer model: no readings
BOTH = ((ANSWER, "support", "alone"), (REMARK, "scope", "complex"))  # in both conversations


def answers_conversation() -> list:
    """A greeting, an answer to the support question, a remark, and a message without readings."""
    script = greeting(Script())
    support_answer(script, ANSWER).listen()
    unprompted_remark(script, REMARK).listen()
    script.user(PLAIN, "out_of_scope", 0.41).listen()
    return script.events


@pytest.fixture
def conversation(migrated_url: str) -> str:
    """Two stored conversations with readings in their parse data; the first one's id."""
    return shared.write_both(migrated_url, "conv-answers", answers_conversation)


def labels(session: Session) -> list[AnswerAnnotation]:
    """Every stored answer label, oldest first."""
    return shared.stored(session, AnswerAnnotation)


def scope_label(conversation: str, event_id: int, text: str, value: str) -> AnswerAnnotation:
    """A scope label row made directly, past the review module's checks."""
    return AnswerAnnotation(
        conversation_id=conversation, event_id=event_id, question="scope", text=text, value=value
    )


def test_a_label_keeps_the_text_the_models_reading_and_the_author(
    session, conversation, user
) -> None:
    event_id = visitor_event(session, conversation, ANSWER)
    label = annotate_answer(session, conversation, event_id, "support", "has_support", user)
    session.commit()
    stored = session.get(AnswerAnnotation, label.id)
    assert (stored.conversation_id, stored.event_id, stored.question, stored.text) == (
        conversation,
        event_id,
        "support",
        ANSWER,
    )
    assert (stored.predicted_value, stored.predicted_confidence) == ("alone", pytest.approx(0.93))
    assert (stored.value, stored.author_id) == ("has_support", user.id)
    assert stored.created_at.tzinfo is not None and stored.updated_at >= stored.created_at
    assert answer_annotations_for(session, conversation) == {event_id: [stored]}
    assert answer_annotations_for(session, "conv-other") == {}


def test_changing_a_label_updates_the_same_row(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, REMARK)
    first = annotate_answer(session, conversation, event_id, "scope", "complex", user)
    session.commit()
    created = first.created_at
    second = annotate_answer(session, conversation, event_id, "scope", "none", user)
    session.commit()
    (row,) = labels(session)
    assert first.id == second.id == row.id
    assert (row.value, row.predicted_value, row.created_at) == ("none", "complex", created)
    assert row.updated_at >= row.created_at


def test_one_label_per_message_and_question(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, REMARK)
    annotate_answer(session, conversation, event_id, "support", "none", user)
    annotate_answer(session, conversation, event_id, "scope", "complex", user)
    annotate_answer(session, conversation, event_id, "decisions", "many", user)
    session.commit()
    by_event = answer_annotations_for(session, conversation)
    assert [(a.question, a.value) for a in by_event[event_id]] == [
        ("scope", "complex"),
        ("decisions", "many"),
        ("support", "none"),
    ]
    shared.refuses(session, scope_label(conversation, event_id, REMARK, "bounded"))


def test_a_message_without_readings_is_labelled_without_a_prediction(
    session, conversation, user
) -> None:
    event_id = visitor_event(session, conversation, PLAIN)
    label = annotate_answer(session, conversation, event_id, "need", "answer", user)
    assert (label.predicted_value, label.predicted_confidence, label.value) == (
        None,
        None,
        "answer",
    )


@pytest.mark.parametrize(
    ("question", "value", "problem"),
    [
        ("support", "bounded", "not an answer label for the support question"),
        ("scope", "alone", "not an answer label for the scope question"),
        ("scope", "", "not an answer label"),
        ("scope", "Bounded", "not an answer label"),
        ("mood", "none", "unknown question"),
        ("", "none", "unknown question"),
        ("recommendation", "both", "unknown question"),
    ],
)
def test_labels_must_be_one_of_the_questions_values(
    session, conversation, user, question, value, problem
) -> None:
    event_id = visitor_event(session, conversation, ANSWER)
    with pytest.raises(ValueError, match=problem):
        annotate_answer(session, conversation, event_id, question, value, user)
    assert labels(session) == []


def test_the_database_refuses_a_value_of_another_question(session, conversation) -> None:
    event_id = visitor_event(session, conversation, ANSWER)
    shared.refuses(session, scope_label(conversation, event_id, ANSWER, "alone"))


def test_only_typed_visitor_messages_of_the_conversation_are_labelled(
    session, conversation, user
) -> None:
    label = partial(
        annotate_answer, session, conversation, question="support", value="alone", user=user
    )
    shared.refuses_other_messages(session, conversation, ANSWER, label)
    assert labels(session) == []


def test_labels_are_audited_with_ids_only(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, ANSWER)
    annotate_answer(session, conversation, event_id, "support", "alone", user)
    annotate_answer(session, conversation, event_id, "support", "has_support", user)
    session.commit()
    entries = shared.audit_rows(session)
    assert [entry[:4] for entry in entries] == [
        ("staff:rita", "annotate_answer", "conversation", conversation)
    ] * 2
    assert entries[-1][4] == {"event_id": event_id, "question": "support"}
    logged = json.dumps([details for *_, details in entries])
    assert "nobody" not in logged and "has_support" not in logged


def test_erasing_a_conversation_deletes_its_labels(session, conversation, user) -> None:
    shared.label_both(session, conversation, BOTH, partial(annotate_answer, user=user))
    assert shared.erase_keeps_other(session, conversation, AnswerAnnotation) == 2
    assert len(labels(session)) == 2


def test_the_retention_purge_deletes_labels_of_idle_conversations(
    session, conversation, user
) -> None:
    shared.label_both(session, conversation, BOTH, partial(annotate_answer, user=user))
    assert shared.purge_all(session, AnswerAnnotation) == 4


def test_readings_are_taken_only_when_well_formed() -> None:
    good = {
        "answers": readings(support=("alone", 0.93), scope=("none", 1)),
        "open_question": "support",
    }
    assert open_question_of(good) == "support"
    reading = reading_of(good, "support")
    assert (reading.question, reading.value, reading.confidence) == ("support", "alone", 0.93)
    assert reading_of(good, "scope").value == "none"
    assert reading_of(good, "need") is None
    for parse_data in (
        {},
        {"answers": None},
        {"answers": ["support"]},
        {"answers": {"support": "alone"}},
        {"answers": {"support": {"value": "bounded", "confidence": 0.9}}},  # another question's
        {"answers": {"support": {"value": "<b>", "confidence": 0.9}}},
    ):
        assert reading_of(parse_data, "support") is None, parse_data
    for confidence in (None, "0.9", True, 1.5, -0.1, float("nan")):
        odd = {"answers": {"support": {"value": "alone", "confidence": confidence}}}
        assert reading_of(odd, "support").confidence is None, confidence
    for open_question in (None, "", "requested_slot", "lead_name", ["support"]):
        assert open_question_of({"open_question": open_question}) is None
