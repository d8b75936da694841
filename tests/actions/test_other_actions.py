"""Safety, situation, handoff, fallback and privacy actions."""

from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.fallback import ActionDefaultAskAffirmation
from actions.handoff import ActionRequestHuman
from actions.privacy import ActionDeleteMyData
from actions.safety import ActionEmergency, ActionNoDanger
from actions.situations import ActionAcknowledgeSituation
from bot.db.models import CallbackRequest
from bot.db.session import session_scope


def texts(dispatcher: CollectingDispatcher) -> str:
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


async def test_crisis_gets_988_and_stops_the_form(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i want to kill myself",
        intent="emergency",
        entities=[{"entity": "red_flag", "value": "crisis"}],
        active_loop="assessment_form",
        slots={"requested_slot": "support"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "988" in texts(dispatcher)
    assert ActiveLoop(None) in events
    assert SlotSet("requested_slot", None) in events
    assert SlotSet("emergency_triggered", True) in events


async def test_acute_emergency_gets_911(make_tracker, domain) -> None:
    tracker = make_tracker(
        "my dad has crushing chest pain",
        intent="emergency",
        entities=[{"entity": "red_flag", "value": "acute"}],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in texts(dispatcher)
    assert "988" not in texts(dispatcher)
    assert ActiveLoop(None) not in events


async def test_classifier_only_emergency_asks_about_danger_first(make_tracker, domain) -> None:
    tracker = make_tracker(
        "i'm managing by myself",
        intent="emergency",
        active_loop="assessment_form",
        slots={"requested_slot": "support", "scope": "complex"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "in danger right now" in texts(dispatcher)
    assert "911" not in texts(dispatcher)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    # the form and the answers stay: only the check is remembered
    assert events == [SlotSet("danger_check", True)]


async def test_yes_to_the_danger_check_gives_both_numbers_and_stops(make_tracker, domain) -> None:
    tracker = make_tracker(
        "yes", intent="affirm", active_loop="assessment_form", slots={"danger_check": True}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in texts(dispatcher) and "988" in texts(dispatcher)
    assert ActiveLoop(None) in events and SlotSet("danger_check", None) in events


async def test_second_classifier_only_alarm_is_not_asked_again(make_tracker, domain) -> None:
    tracker = make_tracker("help now please", intent="emergency", slots={"danger_check": True})
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in texts(dispatcher) and "988" in texts(dispatcher)


async def test_no_to_the_danger_check_carries_on(make_tracker, domain) -> None:
    tracker = make_tracker(
        "no", intent="deny", active_loop="assessment_form", slots={"danger_check": True}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionNoDanger().run(dispatcher, tracker, domain)
    assert events == [SlotSet("danger_check", None)]
    assert "911" in texts(dispatcher) and len(dispatcher.messages) == 1  # the form asks next


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
        "test-visitor", "sam@example.com", "open",
    )  # fmt: skip


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
