"""Assessment actions, run as the action server runs them."""

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import ActionRecommend, ActionStartAssessment, ValidateAssessmentForm

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


async def test_free_text_answer_fills_the_requested_slot(make_tracker, domain) -> None:
    tracker = make_tracker(
        "honestly it's basically just me", intent="inform", slots={"requested_slot": "support"}
    )
    events, dispatcher = await run_validation(tracker, domain)
    assert slot_events(events) == {"support": "alone", "assessment_reask": None}
    assert dispatcher.messages == []


async def test_button_payload_entity_fills_the_slot(make_tracker, domain) -> None:
    tracker = make_tracker(
        '/inform{"decisions": "many"}',
        intent="inform",
        slots={"requested_slot": "decisions"},
        entities=[{"entity": "decisions", "value": "many"}],
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events)["decisions"] == "many"


async def test_unclear_answer_is_reasked_not_guessed(make_tracker, domain) -> None:
    tracker = make_tracker("yes", intent="affirm", slots={"requested_slot": "scope"})
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {"scope": None, "assessment_reask": "scope"}


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


async def test_situation_mid_form_prefills_only_missing_slots(make_tracker, domain) -> None:
    tracker = make_tracker(
        "my mum was just told she has pancreatic cancer",
        intent="situation_new_diagnosis",
        slots={"requested_slot": "decisions", "scope": "bounded"},
    )
    events, _ = await run_validation(tracker, domain)
    assert slot_events(events) == {
        "decisions": "many",
        "situation": "new_diagnosis",
        "assessment_reask": None,
    }


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


async def test_start_mentions_prefilled_answers(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"scope": "complex", "decisions": "many"})
    events = await ActionStartAssessment().run(dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "2 quick questions" in text
    assert "complex" in text and "journey of decisions" in text
    assert "scope" not in slot_events(events)


async def test_start_clears_a_finished_assessment(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**ALL_SIMPLE, "recommendation": "second_opinion"})
    events = await ActionStartAssessment().run(dispatcher, tracker, domain)
    cleared = slot_events(events)
    assert all(cleared[s] is None for s in (*ALL_SIMPLE, "recommendation"))
    assert "4 quick questions" in dispatcher.messages[0]["text"]
