"""Staff review of a conversation: status, tags, notes and intent annotations."""

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.review import (
    ConversationNotFoundError,
    add_note,
    add_tag,
    annotate,
    annotations_for,
    known_intents,
    remove_tag,
    review_state,
    set_reviewed,
)
from bot.db.reviews import Annotation
from bot.db.staff import AuditEntry
from bot.rasa.events import load_events
from tests.support.conversations import assessment_conversation, visitor_event, write_conversation


@pytest.fixture
def conversation(migrated_url: str) -> str:
    """A stored conversation with an assessment (visitor text and button clicks)."""
    write_conversation(migrated_url, "conv-review", assessment_conversation())
    write_conversation(migrated_url, "conv-other", assessment_conversation())
    return "conv-review"


def event_of_type(session: Session, conversation_id: str, type_name: str) -> int:
    """The id of the first event of `type_name` in a conversation."""
    return next(e.id for e in load_events(session, conversation_id) if e.type_name == type_name)


def test_known_intents_come_from_the_domain() -> None:
    intents = known_intents()
    assert {"greet", "ask_cost", "delete_my_data", "inform"} <= set(intents)
    assert "nlu_fallback" not in intents and len(intents) == len(set(intents))


def test_a_new_conversation_is_unreviewed(session, conversation) -> None:
    state = review_state(session, conversation)
    assert (state.status, state.reviewed_by, state.reviewed_at) == ("unreviewed", None, None)
    assert state.tags == [] and state.notes == []


def test_mark_reviewed_and_back(session, conversation, user) -> None:
    set_reviewed(session, conversation, user, True)
    session.commit()
    state = review_state(session, conversation)
    assert (state.status, state.reviewed_by) == ("reviewed", "Rita Ng")
    assert state.reviewed_at is not None and state.reviewed_at.tzinfo is not None
    set_reviewed(session, conversation, user, False)
    session.commit()
    state = review_state(session, conversation)
    assert (state.status, state.reviewed_by, state.reviewed_at) == ("unreviewed", None, None)


@pytest.mark.parametrize(
    "tag", ["", " ", "has space", "a" * 41, "tag!", "naïve", "under_score", "<b>"]
)
def test_bad_tags_are_refused(session, conversation, user, tag) -> None:
    with pytest.raises(ValueError, match="1-40 characters"):
        add_tag(session, conversation, user, tag)


def test_tags_are_normalised_kept_once_and_removed(session, conversation, user) -> None:
    assert add_tag(session, conversation, user, " Needs-Follow-Up ") == "needs-follow-up"
    add_tag(session, conversation, user, "needs-follow-up")
    add_tag(session, conversation, user, "a" * 40)
    add_tag(session, conversation, user, "nlu-2")
    session.commit()
    assert review_state(session, conversation).tags == ["a" * 40, "needs-follow-up", "nlu-2"]
    assert remove_tag(session, conversation, user, "nlu-2") is True
    assert remove_tag(session, conversation, user, "nlu-2") is False
    session.commit()
    assert review_state(session, conversation).tags == ["a" * 40, "needs-follow-up"]
    assert review_state(session, "conv-other").tags == []


def test_unknown_conversations_cannot_be_reviewed(session, conversation, user) -> None:
    with pytest.raises(ConversationNotFoundError):
        add_tag(session, "no-such-conversation", user, "x")
    with pytest.raises(ConversationNotFoundError):
        add_note(session, "no-such-conversation", user, "hello")
    with pytest.raises(ConversationNotFoundError):
        set_reviewed(session, "no-such-conversation", user, True)


def test_notes_are_trimmed_limited_and_listed_oldest_first(session, conversation, user) -> None:
    for body in ("", "   \n ", "x" * 2001):
        with pytest.raises(ValueError, match="1-2000"):
            add_note(session, conversation, user, body)
    add_note(session, conversation, user, "  first look: fallback on turn 3 \n")
    add_note(session, conversation, user, "y" * 2000)
    session.commit()
    notes = review_state(session, conversation).notes
    assert [n.body for n in notes] == ["first look: fallback on turn 3", "y" * 2000]
    assert {n.author for n in notes} == {"Rita Ng"}
    assert review_state(session, "conv-other").notes == []


def test_annotate_saves_text_and_predicted_intent(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, "Which one is right for me?")
    annotation = annotate(session, conversation, event_id, "ask_difference", user)
    session.commit()
    stored = session.get(Annotation, annotation.id)
    assert (stored.text, stored.predicted_intent, stored.corrected_intent) == (
        "Which one is right for me?",
        "request_assessment",
        "ask_difference",
    )
    assert (stored.conversation_id, stored.event_id, stored.author_id) == (
        conversation,
        event_id,
        user.id,
    )
    assert annotations_for(session, conversation) == {event_id: stored}
    assert annotations_for(session, "conv-other") == {}


def test_re_annotating_updates_the_same_annotation(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, "no thanks")
    first = annotate(session, conversation, event_id, "goodbye", user)
    session.commit()
    second = annotate(session, conversation, event_id, "deny", user)
    session.commit()
    rows = session.scalars(select(Annotation)).all()
    assert len(rows) == 1 and first.id == second.id
    assert (rows[0].corrected_intent, rows[0].predicted_intent) == ("deny", "deny")
    assert rows[0].updated_at >= rows[0].created_at


def test_annotate_refuses_bot_messages_and_other_events(session, conversation, user) -> None:
    for type_name in ("bot", "action", "slot"):
        event_id = event_of_type(session, conversation, type_name)
        with pytest.raises(ValueError, match="only visitor messages"):
            annotate(session, conversation, event_id, "greet", user)
    assert session.scalars(select(Annotation)).all() == []


def test_annotate_refuses_button_clicks(session, conversation, user) -> None:
    button = next(
        e.id
        for e in load_events(session, conversation)
        if e.type_name == "user" and e.data["text"].startswith("/inform")
    )
    with pytest.raises(ValueError, match="button clicks"):
        annotate(session, conversation, button, "inform", user)


def test_annotate_refuses_unknown_intents(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, "hi there")
    for intent in ("not_an_intent", "nlu_fallback", "", "GREET"):
        with pytest.raises(ValueError, match="unknown intent"):
            annotate(session, conversation, event_id, intent, user)


def test_annotate_refuses_a_message_of_another_conversation(session, conversation, user) -> None:
    other = visitor_event(session, "conv-other", "hi there")
    with pytest.raises(ConversationNotFoundError):
        annotate(session, conversation, other, "greet", user)
    with pytest.raises(ConversationNotFoundError):
        annotate(session, conversation, 10_000_000, "greet", user)
    assert session.scalars(select(Annotation)).all() == []


def test_review_edits_are_audited_without_text(session, conversation, user) -> None:
    event_id = visitor_event(session, conversation, "hi there")
    set_reviewed(session, conversation, user, True)
    add_tag(session, conversation, user, "cancer-question")
    add_note(session, conversation, user, "mother has ovarian cancer")
    annotate(session, conversation, event_id, "greet", user)
    session.commit()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["mark_reviewed", "add_tag", "add_note", "annotate"]
    assert {(e.actor, e.target_type, e.target_id) for e in entries} == {
        ("staff:rita", "conversation", conversation)
    }
    assert entries[-1].details == {"event_id": event_id}
    logged = json.dumps([e.details for e in entries])
    assert "cancer" not in logged and "hi there" not in logged
