"""Transcripts and summaries built from real Rasa events, as the tracker store stores them."""

from datetime import timedelta

import pytest

from bot.conversations.summary import LOW_CONFIDENCE, summarise
from bot.conversations.transcript import (
    ActionRun,
    BotMessage,
    Entity,
    SessionStart,
    SlotChange,
    VisitorMessage,
    build_transcript,
)
from tests.support.conversations import (
    Script,
    assessment_conversation,
    at,
    booked_conversation,
    emergency_conversation,
    fallback_conversation,
    greeting,
    greeting_conversation,
    human_conversation,
    lead_conversation,
    low_confidence_conversation,
    stored_events,
)


def test_items_follow_the_stored_order_with_intents_entities_and_actions() -> None:
    events = stored_events(assessment_conversation(channel="socketio"))
    transcript = build_transcript(events)
    first, greet, hello = transcript.items[:3]
    assert isinstance(first, SessionStart) and first.at == events[1].at
    assert isinstance(greet, VisitorMessage)
    assert (greet.text, greet.intent, greet.confidence, greet.channel) == (
        "hi there",
        "greet",
        0.99,
        "socketio",
    )
    assert isinstance(hello, ActionRun) and hello.action == "utter_greet"
    reply = transcript.items[3]
    assert isinstance(reply, BotMessage) and reply.action == "utter_greet"
    assert reply.text.startswith("Hi, I'm the Pilot Rock assistant.")
    ids = [item.event_id for item in transcript.items]
    assert ids == sorted(ids)


def test_visitor_entities_and_bot_buttons_are_read() -> None:
    transcript = build_transcript(stored_events(assessment_conversation()))
    answers = [m for m in transcript.visitor_messages() if m.intent == "inform"]
    assert answers[0].entities == [Entity("scope", "complex", 7, 27)]
    notice = next(
        i for i in transcript.items if isinstance(i, BotMessage) and "emergencies" in i.text
    )
    assert notice.buttons == ["What's the difference?", "Help me decide", "Book the free call"]
    assert notice.action == "utter_privacy_notice"


def test_custom_action_messages_name_the_action_that_sent_them() -> None:
    transcript = build_transcript(stored_events(emergency_conversation()))
    bot = [i for i in transcript.items if isinstance(i, BotMessage)]
    assert [b.action for b in bot[-2:]] == ["action_emergency", "action_emergency"]
    assert "911" in bot[-2].text


def test_listening_and_bookkeeping_events_are_left_out() -> None:
    transcript = build_transcript(stored_events(greeting_conversation()))
    kinds = [item.kind for item in transcript.items]
    assert kinds == ["session", "visitor", "action", "bot", "action", "bot"]
    actions = [i.action for i in transcript.items if isinstance(i, ActionRun)]
    assert "action_listen" not in actions and "action_session_start" not in actions


def test_slot_changes_and_final_slot_values() -> None:
    transcript = build_transcript(stored_events(booked_conversation(reference="PR-AAAA22")))
    changes = [i for i in transcript.items if isinstance(i, SlotChange)]
    assert ("recommendation", "both") in [(c.name, c.value) for c in changes]
    assert ("lead_phone", None) in [(c.name, c.value) for c in changes]
    assert transcript.slots["booking_id"] == "PR-AAAA22"
    assert transcript.slots["lead_email"] == "sam.rivera@example.com"
    assert transcript.slots["requested_slot"] is None


@pytest.mark.parametrize(
    ("events", "outcome"),
    [
        (greeting_conversation(), "none"),
        (assessment_conversation(), "recommendation"),
        (lead_conversation(), "lead"),
        (booked_conversation(), "booked"),
    ],
)
def test_outcome_from_the_slots(events: list, outcome: str) -> None:
    assert summarise(stored_events(events)).outcome == outcome


def test_outcome_from_the_database_rows() -> None:
    events = stored_events(assessment_conversation())
    assert summarise(events, lead=object()).outcome == "lead"
    assert summarise(events, lead=object(), booked=True).outcome == "booked"


def test_a_cancelled_booking_leaves_a_lead() -> None:
    script = Script(at(hour=1))
    script.user("please cancel my call", "cancel_booking").action("action_cancel_booking")
    script.say("Done: your call is cancelled.").slots(booking_id=None, booking_time=None)
    events = stored_events(booked_conversation() + script.events)
    assert summarise(events).outcome == "lead"


def test_summary_times_channel_counts_and_recommendation() -> None:
    events = stored_events(booked_conversation(start=at(day=3), channel="telegram"))
    summary = summarise(events)
    assert summary.channel == "telegram"
    assert summary.started_at == events[0].at and summary.last_at == events[-1].at
    assert summary.started_at - at(day=3) < timedelta(minutes=1)
    assert summary.user_messages == 13
    assert summary.recommendation == "both"
    assert not (summary.emergency or summary.fallback or summary.human_requested)
    assert not summary.low_confidence


def test_flags() -> None:
    emergency = summarise(stored_events(emergency_conversation()))
    assert emergency.emergency and not emergency.fallback and not emergency.human_requested
    fallback = summarise(stored_events(fallback_conversation()))
    assert fallback.fallback and fallback.low_confidence and not fallback.emergency
    unsure = summarise(stored_events(low_confidence_conversation()))
    assert unsure.low_confidence and not unsure.fallback
    human = summarise(stored_events(human_conversation()))
    assert human.human_requested and not human.emergency


def test_low_confidence_threshold() -> None:
    def unsure(confidence: float) -> bool:
        script = greeting(Script())
        script.user("hmm", "ask_cost", confidence)
        return summarise(stored_events(script.events)).low_confidence

    assert unsure(LOW_CONFIDENCE - 0.01)
    assert not unsure(LOW_CONFIDENCE)


def test_search_text_holds_visitor_words_and_booking_reference_only() -> None:
    summary = summarise(stored_events(booked_conversation(reference="PR-7K2M9Q")))
    assert "pr-7k2m9q" in summary.search_text
    assert "sam" not in summary.search_text and "rivera" not in summary.search_text
    assert "@" not in summary.search_text  # the lead form's answers are masked whole
    assert "pilot rock assistant" not in summary.search_text
    assert summary.search_text == summary.search_text.lower()


def test_an_empty_conversation_cannot_be_summarised() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        summarise([])
