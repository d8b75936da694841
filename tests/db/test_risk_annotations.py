"""Staff risk labels: a visitor message marked a missed risk (acute, crisis) or a false alarm."""

import json
from functools import partial

import pytest
from sqlalchemy.orm import Session

from bot.conversations.review import annotate_risk, conversation_of_message, risk_annotations_for
from bot.db.reviews import RiskAnnotation
from bot.rasa.events import load_events
from tests.support import labels as shared
from tests.support.conversations import Script, greeting, visitor_event
from tests.support.risk import risk, risky

MISSED = "been giving my things away, won't need them after this weekend"  # the NLU saw nothing
FALSE_ALARM = "this wait for the biopsy results is killing me"  # flagged, but an idiom
OLDER = "what does the intro call cover"  # from before the risk annotation
BOTH = ((MISSED, "crisis"), (FALSE_ALARM, "none"))  # labelled in both conversations


def risk_conversation() -> list:
    """A greeting, then a missed risk, a false alarm and a message without annotation."""
    script = greeting(Script())
    risky(script, MISSED, risk("none", 0.12, "none")).listen()
    risky(script, FALSE_ALARM, risk("crisis", 0.71, "high", "crisis", ["model"])).listen()
    return risky(script, OLDER, None).listen().events


@pytest.fixture
def conversation(migrated_url: str) -> str:
    """Two stored conversations with risk annotations; the first one's id."""
    return shared.write_both(migrated_url, "conv-risk", risk_conversation)


def labels(session: Session) -> list[RiskAnnotation]:
    """Every stored risk label, oldest first."""
    return shared.stored(session, RiskAnnotation)


def test_a_missed_risk_keeps_the_text_the_reading_and_the_author(
    session, conversation, user
) -> None:
    event_id = visitor_event(session, conversation, MISSED)
    row = annotate_risk(session, conversation, event_id, "crisis", user)
    session.commit()
    stored = session.get(RiskAnnotation, row.id)
    assert (stored.conversation_id, stored.event_id, stored.text, stored.label) == (
        conversation,
        event_id,
        MISSED,
        "crisis",
    )
    assert (stored.predicted_label, stored.predicted_score, stored.predicted_level) == (
        "none",
        pytest.approx(0.12),
        "none",
    )
    assert stored.author_id == user.id and stored.updated_at >= stored.created_at
    assert risk_annotations_for(session, conversation) == {event_id: stored}
    assert risk_annotations_for(session, "conv-other") == {}


def test_a_false_alarm_and_a_change_of_mind_keep_one_row(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, FALSE_ALARM)
    first = annotate_risk(session, conversation, event_id, "none", user)
    session.commit()
    created = first.created_at
    second = annotate_risk(session, conversation, event_id, "acute", user)
    session.commit()
    (row,) = labels(session)
    assert first.id == second.id == row.id
    assert (row.label, row.predicted_label, row.predicted_level, row.created_at) == (
        "acute",
        "crisis",
        "high",
        created,
    )
    duplicate = RiskAnnotation(
        conversation_id=conversation, event_id=event_id, text=FALSE_ALARM, label="none"
    )
    shared.refuses(session, duplicate)


def test_a_message_without_annotation_is_labelled_without_a_prediction(
    session, conversation, user
) -> None:
    row = annotate_risk(
        session, conversation, visitor_event(session, conversation, OLDER), "none", user
    )
    assert (row.predicted_label, row.predicted_score, row.predicted_level, row.label) == (
        None,
        None,
        None,
        "none",
    )


@pytest.mark.parametrize("label", ["", "high", "Acute", "missed", "<b>crisis</b>", "unclear"])
def test_labels_must_be_a_risk_class(session, conversation, user, label) -> None:
    event_id = visitor_event(session, conversation, MISSED)
    with pytest.raises(ValueError, match="is not a risk label"):
        annotate_risk(session, conversation, event_id, label, user)
    assert labels(session) == []


def test_the_database_refuses_another_label(session, conversation) -> None:
    row = RiskAnnotation(conversation_id=conversation, event_id=1, text="x", label="high")
    shared.refuses(session, row)


def test_only_typed_visitor_messages_of_the_conversation_are_labelled(
    session, conversation, user
) -> None:
    label = partial(annotate_risk, session, conversation, label="crisis", user=user)
    shared.refuses_other_messages(session, conversation, MISSED, label)
    assert labels(session) == []


def test_a_message_leads_to_its_conversation(session, conversation) -> None:
    event_id = visitor_event(session, conversation, MISSED)
    assert conversation_of_message(session, event_id) == conversation
    bot_event = next(e.id for e in load_events(session, conversation) if e.type_name == "bot")
    for missing in (bot_event, 0, -1, 10_000_000, 2**31, 2**70):
        assert conversation_of_message(session, missing) is None, missing


def test_labels_are_audited_with_ids_only(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, MISSED)
    annotate_risk(session, conversation, event_id, "crisis", user)
    annotate_risk(session, conversation, event_id, "acute", user)
    session.commit()
    entries = shared.audit_rows(session)
    entry = ("staff:rita", "annotate_risk", "conversation", conversation, {"event_id": event_id})
    assert entries == [entry] * 2
    logged = json.dumps([details for *_, details in entries])
    assert "weekend" not in logged and "crisis" not in logged and "acute" not in logged


def test_erasing_a_conversation_deletes_its_risk_labels(session, conversation, user) -> None:
    shared.label_both(session, conversation, BOTH, partial(annotate_risk, user=user))
    assert shared.erase_keeps_other(session, conversation, RiskAnnotation) == 2


def test_the_retention_purge_deletes_risk_labels_of_idle_conversations(
    session, conversation, user
) -> None:
    shared.label_both(session, conversation, BOTH, partial(annotate_risk, user=user))
    assert shared.purge_all(session, RiskAnnotation) == 4
