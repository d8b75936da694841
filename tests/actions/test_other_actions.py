"""Safety, situation, handoff, fallback and privacy actions."""

from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.fallback import ActionDefaultAskAffirmation
from actions.handoff import ActionRequestHuman
from actions.privacy import ActionDeleteMyData
from actions.safety import ActionCarryOn, ActionEmergency
from actions.situations import ActionAcknowledgeSituation
from bot.db.models import CallbackRequest
from bot.db.session import session_scope


def texts(dispatcher: CollectingDispatcher) -> str:
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


async def test_crisis_gets_988_first_and_pauses_the_form(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i want to kill myself",
        intent="emergency",
        entities=[{"entity": "red_flag", "value": "crisis"}],
        active_loop="assessment_form",
        slots={"requested_slot": "support", "scope": "complex"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "988" in dispatcher.messages[0]["text"] or "988" in dispatcher.messages[1]["text"]
    assert "?" not in dispatcher.messages[0]["text"]  # never a question before the numbers
    assert ActiveLoop(None) in events
    assert SlotSet("paused_loop", "assessment_form") in events
    assert SlotSet("emergency_triggered", True) in events
    assert not any(e.get("name") == "scope" for e in events)  # answers kept
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/carry_on"


async def test_an_answer_read_from_the_same_message_is_kept_with_the_paused_form(
    make_tracker, domain
) -> None:
    tracker = make_tracker(
        "it's just me, and i do it all myself",
        intent="emergency",
        entities=[
            {"entity": "support", "value": "alone", "extractor": "AnswerReader"},
            {"entity": "red_flag", "value": "crisis"},
        ],
        active_loop="assessment_form",
        slots={"requested_slot": "support"},
    )
    events = await ActionEmergency().run(CollectingDispatcher(), tracker, domain)
    assert SlotSet("support", "alone") in events
    assert events.index(SlotSet("support", "alone")) < events.index(ActiveLoop(None))


async def test_acute_emergency_gets_911(make_tracker, domain) -> None:
    tracker = make_tracker(
        "my dad has crushing chest pain",
        intent="emergency",
        entities=[{"entity": "red_flag", "value": "acute"}],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in dispatcher.messages[0]["text"]
    assert "988" not in texts(dispatcher)
    assert ActiveLoop(None) not in events


async def test_unclear_risk_gets_both_numbers_in_the_first_reply(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i took all of them",
        intent="emergency",
        entities=[{"entity": "red_flag", "value": "unclear"}],
        active_loop="lead_form",
        slots={"requested_slot": "lead_email"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    first = dispatcher.messages[0]["text"]
    assert "911" in first
    assert "988" in texts(dispatcher)
    assert SlotSet("paused_loop", "lead_form") in events


async def test_classifier_only_emergency_gives_both_numbers(make_tracker, domain) -> None:
    tracker = make_tracker("help now please", intent="emergency")
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in texts(dispatcher) and "988" in texts(dispatcher)
    assert "in danger right now" not in texts(dispatcher)


async def test_carry_on_resumes_the_paused_form(make_tracker, domain) -> None:
    tracker = make_tracker(
        "we're safe",
        intent="carry_on",
        slots={"paused_loop": "assessment_form", "scope": "complex"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionCarryOn().run(dispatcher, tracker, domain)
    assert events == [SlotSet("paused_loop", None), FollowupAction("assessment_form")]
    assert "911" in texts(dispatcher) and len(dispatcher.messages) == 1  # the form asks next


async def test_carry_on_with_nothing_paused_asks_how_to_help(make_tracker, domain) -> None:
    tracker = make_tracker("false alarm", intent="carry_on")
    dispatcher = CollectingDispatcher()
    events = await ActionCarryOn().run(dispatcher, tracker, domain)
    assert events == [SlotSet("paused_loop", None)]
    assert dispatcher.messages[-1].get("response") == "utter_how_can_i_help"


async def test_situation_is_acknowledged_and_proposes_answers(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i've had symptoms for 6 years and seen 9 doctors", intent="situation_unexplained_symptoms"
    )
    dispatcher = CollectingDispatcher()
    events = await ActionAcknowledgeSituation().run(dispatcher, tracker, domain)
    assert SlotSet("situation", "unexplained_symptoms") in events
    assert SlotSet("prefill", {"scope": "complex", "need": "navigate"}) in events
    assert not any(e.get("name") in ("scope", "need") for e in events)  # nothing silently set
    assert "exhausting" in dispatcher.messages[0]["text"]
    last = dispatcher.messages[-1]
    assert "complex and still changing" in last["text"] and "Is that right?" in last["text"]
    assert [b["payload"] for b in last["buttons"]] == ["/affirm", "/deny", "/book_call"]


async def test_request_human_is_recorded(make_tracker, domain, database) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("a person please", slots={"lead_contact": "sam@example.com"})
    events = await ActionRequestHuman().run(dispatcher, tracker, domain)
    assert events == [SlotSet("human_requested", True)]
    assert "sam@example.com" in texts(dispatcher)
    with session_scope() as session:
        (request,) = session.scalars(select(CallbackRequest)).all()
    assert (request.conversation_id, request.contact, request.status) == (
        "test-visitor",
        "sam@example.com",
        "open",
    )


async def test_affirmation_uses_friendly_labels(make_tracker, domain) -> None:
    tracker = make_tracker("scond opnion??", intent="nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "ask_second_opinion", "confidence": 0.4},
    ]
    dispatcher = CollectingDispatcher()
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert "What is a second opinion?" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/ask_second_opinion", "/out_of_scope"]


async def test_delete_my_data_clears_answers_and_says_what_was_deleted(
    make_tracker, domain
) -> None:
    tracker = make_tracker(
        "delete everything", slots={"scope": "bounded", "situation": "caregiver"}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert SlotSet("scope", None) in events and SlotSet("situation", None) in events
    assert SlotSet("deletion_requested", True) in events
    reply = texts(dispatcher)
    assert "deleted this conversation" in reply
    for shared in ("answers", "contact details", "call you booked"):
        assert shared in reply
    assert "flagged" not in reply


async def test_situation_action_without_a_situation_asks_how_to_help(make_tracker, domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("hello", intent="greet")
    assert await ActionAcknowledgeSituation().run(dispatcher, tracker, domain) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_how_can_i_help"]
