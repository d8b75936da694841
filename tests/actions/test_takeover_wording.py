"""What the assistant says in an emergency during a live takeover, and after the hand-back."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import BOOK_BUTTON, ActionHandback
from actions.safety import ActionEmergency, staff_in_chat
from bot.handoff.conversation import staff_event
from bot.handoff.notices import handed_back, joined
from bot.intake.emergency import ACUTE, CRISIS, REMINDER, SOMEONE_FROM_THE_TEAM

# Words that belong to the bot's own flow, wrong while a person holds the chat.
FLOW_WORDS = re.compile(r"\b(paused?|stop|questions?|carry on|pick up|left off|tap)\b", re.I)
NAVIGATOR = "Maya Patel"


def notice(text: str, kind: str, name: str = NAVIGATOR) -> dict[str, Any]:
    """A team notice or message as Rasa stores it (what the action server receives)."""
    return {"event": "bot", "data": {}} | staff_event(text, kind, name, 7)


def in_takeover(tracker: Tracker, *team_events: dict[str, Any], paused: bool = True) -> Tracker:
    """`tracker` with the team's events before its latest message, and Rasa's paused flag."""
    state = tracker.current_state()
    state["events"] = [*team_events, *state["events"]]
    state["paused"] = paused
    return Tracker.from_dict(state)


@pytest.fixture
def risk(make_tracker: Callable[..., Tracker]) -> Callable[..., Tracker]:
    """A red-flagged message of `kind` (None: flagged by the classifier only)."""

    def build(kind: str | None, **kwargs: Any) -> Tracker:
        entities = [{"entity": "red_flag", "value": kind, "extractor": "MessageGuard"}]
        flags = entities if kind else []
        return make_tracker("i can't do this anymore", intent="emergency", entities=flags, **kwargs)

    return build


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [message.get("text") or "" for message in dispatcher.messages]


@pytest.mark.parametrize(
    ("kind", "first_number"), [(CRISIS, "988"), (ACUTE, "911"), ("unclear", "911"), (None, "911")]
)
async def test_during_a_takeover_the_numbers_come_first_then_the_navigator_is_still_here(
    risk, domain, kind: str | None, first_number: str
) -> None:
    tracker = in_takeover(risk(kind), notice(joined(NAVIGATOR), "joined"))
    dispatcher = CollectingDispatcher()
    events = await ActionEmergency().run(dispatcher, tracker, domain)

    said = texts(dispatcher)
    assert first_number in said[0] and "?" not in said[0]  # the number first, no question before
    if kind != ACUTE:
        assert "988" in " ".join(said)
    assert said[-1].startswith(f"{NAVIGATOR} from the Pilot Rock team is still here with you")
    assert not any(FLOW_WORDS.search(text) for text in said), said
    assert "chat assistant" not in " ".join(said)  # a person is in the chat
    assert not any(message.get("buttons") for message in dispatcher.messages)
    assert events == [SlotSet("emergency_triggered", True)]


async def test_during_a_takeover_a_form_left_open_is_not_touched(risk, domain) -> None:
    """Nothing was being asked while the navigator held the chat; the hand-back closes the form."""
    tracker = in_takeover(
        risk(CRISIS, active_loop="assessment_form", slots={"requested_slot": "support"}),
        notice(joined(NAVIGATOR), "joined"),
    )
    events = await ActionEmergency().run(CollectingDispatcher(), tracker, domain)
    assert events == [SlotSet("emergency_triggered", True)]


async def test_outside_a_takeover_the_reply_still_offers_to_carry_on(risk, domain) -> None:
    """The same conversation once handed back: the bot's own reply, with its button."""
    tracker = in_takeover(
        risk(CRISIS),
        notice(joined(NAVIGATOR), "joined"),
        notice(handed_back(NAVIGATOR), "handed_back"),
        paused=False,
    )
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert "988" in texts(dispatcher)[0]
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/carry_on"
    assert NAVIGATOR not in " ".join(texts(dispatcher))


def test_the_person_in_the_chat_is_the_latest_who_joined_or_wrote(risk) -> None:
    sam = notice("Sam here, taking over from Maya.", "staff_message", "Sam Ortiz")
    maya = notice(joined(NAVIGATOR), "joined")
    assert staff_in_chat(in_takeover(risk(CRISIS), maya)) == NAVIGATOR
    assert staff_in_chat(in_takeover(risk(CRISIS), maya, sam)) == "Sam Ortiz"
    back = notice(handed_back(NAVIGATOR), "handed_back")
    assert staff_in_chat(in_takeover(risk(CRISIS), maya, back)) is None
    assert staff_in_chat(in_takeover(risk(CRISIS), notice(joined(""), "joined", ""))) is None


async def test_without_a_name_the_reply_still_says_someone_is_there(risk, domain) -> None:
    tracker = in_takeover(risk(ACUTE))  # paused, but no notice with a name in the events
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert "911" in texts(dispatcher)[0]
    assert texts(dispatcher)[-1].startswith(f"{SOMEONE_FROM_THE_TEAM} is still here")


# --- after the hand-back ------------------------------------------------------------------------

HANDED_BACK = ActionExecuted("action_listen")


async def test_hand_back_offers_the_call_as_an_option_not_the_next_step(
    make_tracker, domain
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandback().run(dispatcher, make_tracker("thanks", intent="thank"), domain)
    (message,) = dispatcher.messages
    assert "next step" not in message["text"]
    assert "if you'd ever like more time with a navigator" in message["text"].lower()
    assert message["buttons"][0] == BOOK_BUTTON
    assert events == [HANDED_BACK]


async def test_hand_back_after_an_emergency_repeats_the_numbers_first(make_tracker, domain) -> None:
    tracker = make_tracker("ok", intent="affirm", slots={"emergency_triggered": True})
    dispatcher = CollectingDispatcher()
    await ActionHandback().run(dispatcher, tracker, domain)
    said = texts(dispatcher)
    assert said[0] == REMINDER and "911" in said[0] and "988" in said[0]
    assert "next step" not in " ".join(said)
    assert dispatcher.messages[-1]["buttons"][0] == BOOK_BUTTON


async def test_hand_back_with_a_booking_names_it_and_offers_nothing_else(
    make_tracker, domain
) -> None:
    tracker = make_tracker("ok", intent="affirm", slots={"booking_id": "PR-7K2M9Q"})
    dispatcher = CollectingDispatcher()
    await ActionHandback().run(dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    assert "still booked (reference PR-7K2M9Q)" in message["text"]
    assert "talk with our team again then" in message["text"]
    assert "next step" not in message["text"] and not message.get("buttons")
