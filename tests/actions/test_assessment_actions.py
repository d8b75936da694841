"""Assessment actions, run as the action server runs them."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import (
    ActionAskPrefillOk,
    ActionCorrectAnswer,
    ActionRecommend,
    ActionStartAssessment,
    ValidateAssessmentForm,
)

ALL_SIMPLE = {
    "scope": "bounded",
    "decisions": "one_time",
    "need": "answer",
    "support": "has_support",
}


def slot_events(events: list[dict]) -> dict:
    """The slot values a list of events sets."""
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run_validation(tracker, domain) -> tuple[list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidateAssessmentForm().run(dispatcher, tracker, domain)
    return events, dispatcher


async def test_answer_read_by_the_model_fills_the_requested_slot(make_tracker, domain) -> None:
    # The NLU's AnswerReader turns a confident reading into `inform` with the value as entity.
    tracker = make_tracker(
        "honestly it's basically just me",
        intent="inform",
        slots={"requested_slot": "support"},
        entities=[{"entity": "support", "value": "alone", "extractor": "AnswerReader"}],
    )
    events, dispatcher = await run_validation(tracker, domain)
    assert slot_events(events) == {"support": "alone", "assessment_reask": None}
    assert dispatcher.messages == []


async def test_words_the_model_could_not_read_are_not_guessed(make_tracker, domain) -> None:
    # No reading entity: free text is never mapped by keywords in the action.
    tracker = make_tracker(
        "honestly it's basically just me", intent="inform", slots={"requested_slot": "support"}
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {"support": None, "assessment_reask": "support"}


async def test_button_payload_entity_fills_the_slot(make_tracker, domain) -> None:
    tracker = make_tracker(
        '/inform{"decisions": "many"}',
        intent="inform",
        slots={"requested_slot": "decisions"},
        entities=[{"entity": "decisions", "value": "many"}],
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events)["decisions"] == "many"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes", "affirm"),
        # A vague reply the classifier takes for a correction, with no answer read, is unclear.
        ("hmm maybe", "correct_answer"),
    ],
    ids=["unclear_answer", "correction_with_nothing_to_correct"],
)
async def test_an_unclear_reply_reasks_the_open_question_not_guessed(
    make_tracker, domain, text: str, intent: str
) -> None:
    tracker = make_tracker(text, intent=intent, slots={"requested_slot": "scope"})
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {"scope": None, "assessment_reask": "scope"}


async def test_correction_of_an_earlier_answer_is_left_to_the_correction_rule(
    make_tracker, domain
) -> None:
    tracker = make_tracker(
        "actually my sister does help",
        intent="correct_answer",
        slots={"support": "alone", "requested_slot": "scope"},
        entities=[{"entity": "support", "value": "has_support", "extractor": "AnswerReader"}],
    )
    events, _ = await run_validation(tracker, domain)
    assert "scope" not in slot_events(events)


async def test_reasks_escalate_twice_then_offer_a_way_forward(make_tracker, domain) -> None:
    stages = []
    marker = None
    for _ in range(4):
        tracker = make_tracker(
            "hmm",
            intent="nlu_fallback",
            slots={"requested_slot": "need", "assessment_reask": marker},
        )
        events, _ = await run_validation(tracker, domain)
        marker = slot_events(events)["assessment_reask"]
        stages.append(marker)
    assert stages == ["need", "need_2", "need_stuck", "need_stuck"]
    variants = {
        c["condition"][0]["value"]: c
        for c in domain["responses"]["utter_ask_need"]
        if c.get("condition")
    }
    assert set(variants) == {"need", "need_2", "need_stuck"}
    # each re-ask explains the options again; the last one offers a person and the call
    assert variants["need"]["text"] != variants["need_2"]["text"]
    assert {"/request_human", "/book_call"} <= {
        b["payload"] for b in variants["need_stuck"]["buttons"]
    }
    assert all(len(v["buttons"]) >= 2 for v in variants.values())


async def test_an_answer_resets_the_reask_stage(make_tracker, domain) -> None:
    tracker = make_tracker(
        "/inform",
        intent="inform",
        slots={"requested_slot": "need", "assessment_reask": "need_2"},
        entities=[{"entity": "need", "value": "navigate"}],
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {"need": "navigate", "assessment_reask": None}


async def test_question_mid_form_is_left_to_the_rules(make_tracker, domain) -> None:
    tracker = make_tracker(
        "how much does this cost?", intent="ask_cost", slots={"requested_slot": "need"}
    )
    events, _ = await run_validation(tracker, domain)
    assert events == []  # nothing extracted: the form rejects and the rules answer


async def test_emergency_mid_form_is_never_read_as_an_answer(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i'm alone and i want to end my life",
        intent="emergency",
        slots={"requested_slot": "support"},
    )
    events, _ = await run_validation(tracker, domain)
    assert events == []


async def test_situation_mid_form_is_proposed_not_filled(make_tracker, domain) -> None:
    tracker = make_tracker(
        "my mum was just told she has pancreatic cancer",
        intent="situation_new_diagnosis",
        slots={"requested_slot": "decisions", "scope": "bounded"},
    )
    events, _ = await run_validation(tracker, domain)
    # only the still-open question is proposed, and the form asks for confirmation next
    assert slot_events(events) == {"prefill": {"decisions": "many"}, "requested_slot": "prefill_ok"}


async def test_confirmed_proposal_fills_the_open_questions(make_tracker, domain) -> None:
    tracker = make_tracker(
        "yes that's right",
        intent="affirm",
        slots={
            "requested_slot": "prefill_ok",
            "prefill": {"scope": "complex", "decisions": "many"},
        },
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {
        "prefill": None,
        "prefill_ok": None,
        "scope": "complex",
        "decisions": "many",
    }


async def test_declined_proposal_leaves_the_questions_to_the_visitor(make_tracker, domain) -> None:
    tracker = make_tracker(
        "no", intent="deny", slots={"requested_slot": "prefill_ok", "prefill": {"scope": "complex"}}
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {"prefill": None, "prefill_ok": None}


async def test_proposal_question_shows_what_was_understood(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"prefill": {"scope": "complex", "need": "navigate"}})
    await ActionAskPrefillOk().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert "complex and still changing" in message["text"]
    assert "finding your way through the system" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


async def test_no_extraction_when_returning_to_the_form(make_tracker, domain) -> None:
    tracker = make_tracker(
        "what's the difference?",
        intent="ask_difference",
        slots={"requested_slot": "scope"},
        side_step="utter_difference_detail",
    )
    events, _ = await run_validation(tracker, domain)
    assert "scope" not in slot_events(events)


async def test_recommend_sets_slot_and_explains(make_tracker, domain) -> None:
    answers = {**ALL_SIMPLE, "decisions": "many", "support": "alone"}
    dispatcher = CollectingDispatcher()
    events = await ActionRecommend().run(dispatcher, make_tracker(slots=answers), domain)
    assert SlotSet("recommendation", "both") in events
    texts = [m["text"] for m in dispatcher.messages]
    assert "both" in texts[0].lower()
    assert any("journey of decisions" in t and "on your own" in t for t in texts)
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/book_call"


async def test_recommend_advocacy_for_a_complex_situation(make_tracker, domain) -> None:
    answers = {"scope": "complex", "decisions": "many", "need": "navigate", "support": "alone"}
    dispatcher = CollectingDispatcher()
    events = await ActionRecommend().run(dispatcher, make_tracker(slots=answers), domain)
    assert SlotSet("recommendation", "advocacy") in events
    assert "advocacy" in dispatcher.messages[0]["text"].lower()


async def test_start_applies_a_confirmed_proposal(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "yes that's right",
        intent="affirm",
        slots={"prefill": {"scope": "complex", "decisions": "many"}},
    )
    events = await ActionStartAssessment().run(dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "2 quick questions" in text
    assert "complex" in text and "journey of decisions" in text
    assert slot_events(events)["scope"] == "complex" and slot_events(events)["prefill"] is None


async def test_start_without_confirmation_drops_the_proposal(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "help me decide", intent="request_assessment", slots={"prefill": {"scope": "complex"}}
    )
    events = await ActionStartAssessment().run(dispatcher, tracker, domain)
    assert "4 quick questions" in dispatcher.messages[0]["text"]
    assert slot_events(events)["prefill"] is None and "scope" not in slot_events(events)


async def test_start_clears_a_finished_assessment(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**ALL_SIMPLE, "recommendation": "second_opinion"})
    events = await ActionStartAssessment().run(dispatcher, tracker, domain)
    cleared = slot_events(events)
    assert all(cleared[s] is None for s in (*ALL_SIMPLE, "recommendation"))
    assert "4 quick questions" in dispatcher.messages[0]["text"]


async def test_correction_after_the_assessment_changes_the_recommendation(
    make_tracker, domain
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "actually my sister does help",
        intent="correct_answer",
        slots={**ALL_SIMPLE, "decisions": "many", "support": "alone", "recommendation": "both"},
        entities=[{"entity": "support", "value": "has_support", "extractor": "AnswerReader"}],
    )
    events = await ActionCorrectAnswer().run(dispatcher, tracker, domain)
    assert SlotSet("support", "has_support") in events
    assert SlotSet("recommendation", "both") in events  # one complex answer left: still both
    text = " ".join(m["text"] for m in dispatcher.messages)
    assert "good support" in text and "stays the same" in text


async def test_correction_that_flips_the_outcome_says_so(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "wait, my husband helps with everything",
        intent="correct_answer",
        slots={**ALL_SIMPLE, "support": "alone", "recommendation": "both"},
        entities=[{"entity": "support", "value": "has_support"}],
    )
    events = await ActionCorrectAnswer().run(dispatcher, tracker, domain)
    assert SlotSet("recommendation", "second_opinion") in events
    assert "changes my suggestion" in dispatcher.messages[0]["text"]


async def test_correction_during_the_form_only_changes_the_answer(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "actually it's more than one decision",
        intent="correct_answer",
        active_loop="assessment_form",
        slots={"scope": "bounded", "decisions": "one_time", "requested_slot": "need"},
        entities=[{"entity": "decisions", "value": "many"}],
    )
    events = await ActionCorrectAnswer().run(dispatcher, tracker, domain)
    assert events == [SlotSet("decisions", "many")]
    assert "journey of decisions" in dispatcher.messages[0]["text"]


async def test_correction_without_a_reading_asks_what_changed(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("i want to change an answer", intent="correct_answer")
    assert await ActionCorrectAnswer().run(dispatcher, tracker, domain) == []
    assert "actually" in dispatcher.messages[0]["text"]
