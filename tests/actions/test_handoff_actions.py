"""Asking for a person: live when a navigator is on duty, a call back otherwise; fallbacks."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

import actions.handoff
from actions.handoff import ActionHandback, ActionHandoffFallback, ActionRequestHuman
from bot.core.settings import get_settings
from bot.db.handoffs import Handoff
from bot.db.models import CallbackRequest, Navigator, OutboxMessage
from bot.db.session import session_scope
from bot.handoff import notices, state
from tests.support.team import MONDAY, SATURDAY, STAFF_URL, staff_navigator, weekday_team

CLAIM_MINUTES = 7
BOOK = {"title": "Book the free call", "payload": "/book_call"}

LISTENED = ActionExecuted("action_listen")  # actions run through the HTTP API end listening


@pytest.fixture
def team(database: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Explicit navigators (the seeded ones set aside); the emails of those on duty on MONDAY."""
    monkeypatch.setenv("STAFF_PUBLIC_URL", STAFF_URL)
    monkeypatch.setenv("HANDOFF_CLAIM_MINUTES", str(CLAIM_MINUTES))
    get_settings.cache_clear()
    with session_scope() as session:
        session.execute(update(Navigator).values(active=False))
        weekday_team(session)
    return ["east@pilotrock.example", "central@pilotrock.example"]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the actions' clock to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        """Freeze actions.handoff.utcnow at `moment`."""
        monkeypatch.setattr(actions.handoff, "utcnow", lambda: moment)

    return set_clock


@pytest.fixture
def visitor(make_tracker: Callable[..., Tracker]) -> Callable[..., Tracker]:
    """A tracker whose latest user message came in on `channel`, with the channel's metadata."""

    def build(
        channel: str | None, metadata: dict[str, Any] | None = None, **kwargs: Any
    ) -> Tracker:
        """The tracker, its user event carrying the channel and metadata."""
        kwargs.setdefault("intent", "request_human")
        tracker = make_tracker("can I talk to a real person?", **kwargs)
        (user,) = [event for event in tracker.events if event["event"] == "user"]
        user["input_channel"] = channel
        user["metadata"] = metadata or {}
        assert tracker.get_latest_input_channel() == channel
        return tracker

    return build


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """What the visitor was told, message by message."""
    return [message.get("text") or "" for message in dispatcher.messages]


def handoffs() -> list[Handoff]:
    """Every handoff row, oldest first."""
    with session_scope() as session:
        return list(session.scalars(select(Handoff).order_by(Handoff.id)))


def callbacks() -> list[CallbackRequest]:
    """Every callback request, oldest first."""
    with session_scope() as session:
        return list(session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def emails() -> list[OutboxMessage]:
    """Every queued message, oldest first."""
    with session_scope() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def ask(tracker: Tracker, domain: dict[str, Any]) -> tuple[CollectingDispatcher, list]:
    """Run action_request_human once."""
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman().run(dispatcher, tracker, domain)
    return dispatcher, events


async def ask_out_of_hours(
    visitor: Callable[..., Tracker], at: Callable[[datetime], None], domain: dict, **slots: str
) -> tuple[CollectingDispatcher, list]:
    """Run action_request_human in a website chat on SATURDAY, when nobody is on duty."""
    at(SATURDAY)
    return await ask(visitor("socketio", slots=slots), domain)


# --- action_request_human -----------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["socketio", "telegram"])
async def test_on_duty_opens_a_live_request_and_alerts_the_team(
    visitor, at, team: list[str], domain, channel: str
) -> None:
    """A waiting handoff, one email per navigator on duty, the claim time from the settings."""
    at(MONDAY)
    dispatcher, events = await ask(visitor(channel), domain)

    assert events == [SlotSet("human_requested", True)]
    assert texts(dispatcher) == notices.requested(CLAIM_MINUTES)
    assert f"within {CLAIM_MINUTES} minutes" in texts(dispatcher)[1]
    (handoff,) = handoffs()
    assert (handoff.conversation_id, handoff.channel, handoff.status) == (
        "test-visitor",
        channel,
        "waiting",
    )
    assert (handoff.requested_by, handoff.requested_at) == ("visitor", MONDAY)
    queued = emails()
    assert [m.recipient for m in queued] == team
    assert all(m.kind == "handoff_request" for m in queued)
    assert all(f"{STAFF_URL}/handoffs" in m.body_text for m in queued)
    assert callbacks() == []  # a person is on the way: no call back yet


async def test_asked_again_while_waiting(visitor, at, team: list[str], domain) -> None:
    """The second request says the team knows; no second row, no second round of emails."""
    at(MONDAY)
    await ask(visitor("socketio"), domain)
    at(MONDAY.replace(minute=32))
    dispatcher, events = await ask(visitor("socketio"), domain)

    assert texts(dispatcher) == [notices.still_waiting()]
    assert events == [SlotSet("human_requested", True)]
    assert len(handoffs()) == 1 and len(emails()) == len(team)


async def test_out_of_hours_records_the_request_and_offers_a_call_back(
    visitor, at, team: list[str], domain
) -> None:
    """Saturday: a closed out_of_hours handoff, a callback request, when the team is back."""
    dispatcher, events = await ask_out_of_hours(
        visitor, at, domain, lead_timezone="America/Los_Angeles"
    )

    assert events == [SlotSet("human_requested", True)]
    # back Monday 09:00 New York = 14:00 UTC = 06:00 in the visitor's Los Angeles
    assert texts(dispatcher)[0] == notices.out_of_hours(
        MONDAY.replace(hour=14, minute=0), "America/Los_Angeles"
    )
    assert texts(dispatcher)[0].endswith("They're back Mon 7 Jan, 6:00 AM PST.")
    assert dispatcher.messages[-1]["buttons"] == [BOOK]  # no contact yet: the booking
    (handoff,) = handoffs()
    assert (handoff.status, handoff.outcome, handoff.channel) == (
        "closed",
        "out_of_hours",
        "socketio",
    )
    assert handoff.closed_at == SATURDAY
    (callback,) = callbacks()
    assert (callback.conversation_id, callback.channel, callback.contact, callback.status) == (
        "test-visitor",
        "socketio",
        None,
        "open",
    )
    assert emails() == []


@pytest.mark.parametrize(
    ("slots", "metadata", "back"),
    [
        ({}, {}, "Mon 7 Jan, 9:00 AM EST"),  # nothing known: US Eastern
        ({}, {"timezone": "Europe/Lisbon"}, "Mon 7 Jan, 2:00 PM WET"),  # the browser's zone
        ({"lead_timezone": "Asia/Tokyo"}, {"timezone": "Europe/Lisbon"}, "Mon 7 Jan, 11:00 PM JST"),
        ({}, {"timezone": "Mars/Olympus"}, "Mon 7 Jan, 9:00 AM EST"),  # unknown zone ignored
    ],
)
async def test_back_time_is_in_the_visitors_zone(
    visitor, at, team: list[str], domain, slots: dict, metadata: dict, back: str
) -> None:
    """The lead form's zone wins, then the browser's, else US Eastern."""
    at(SATURDAY)
    dispatcher, _ = await ask(visitor("telegram", metadata, slots=slots), domain)
    assert texts(dispatcher)[0].endswith(f"They're back {back}.")


async def test_out_of_hours_with_a_contact_promises_a_call(
    visitor, at, team: list[str], domain
) -> None:
    """A visitor who left a contact is told a person will reach them there."""
    dispatcher, _ = await ask_out_of_hours(visitor, at, domain, lead_contact="sam@example.com")
    assert "contact you at sam@example.com" in texts(dispatcher)[-1]
    assert callbacks()[0].contact == "sam@example.com"


@pytest.mark.parametrize("channel", ["rest", None])
async def test_a_channel_that_cannot_carry_a_live_chat_gets_a_call_back(
    visitor, at, team: list[str], domain, channel: str | None
) -> None:
    """REST (or an unknown channel), even on duty: callback only, no handoff, no email."""
    at(MONDAY)
    dispatcher, events = await ask(visitor(channel), domain)

    assert events == [SlotSet("human_requested", True)]
    assert texts(dispatcher)[0] == "Of course. I've flagged this conversation for our team."
    assert dispatcher.messages[-1]["buttons"] == [BOOK]
    assert handoffs() == [] and emails() == []
    (callback,) = callbacks()
    assert (callback.channel, callback.note) == (
        channel or "unknown",
        "asked for a person in the chat",
    )


# --- action_handoff_fallback ----------------------------------------------------------------------


def closed_handoff(outcome: str) -> None:
    """The visitor's handoff, claimed by a navigator and closed by the watcher with `outcome`."""
    with session_scope() as session:
        user = staff_navigator(session, "ana", "Ana Ortiz")
        handoff, _ = state.request(session, "test-visitor", "socketio", now=MONDAY)
        if outcome == "no_reply":
            state.claim(session, handoff, user.id, MONDAY)
        assert state.close(session, handoff, outcome, now=MONDAY.replace(minute=45))


@pytest.mark.parametrize("outcome", ["no_reply", "unclaimed"])
async def test_fallback_apologises_and_offers_a_call_back(
    visitor, database: str, domain, outcome: str
) -> None:
    """After a no-reply (or unclaimed) close: apology, callback request, booking button."""
    closed_handoff(outcome)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoffFallback().run(dispatcher, visitor("socketio"), domain)

    assert events == [SlotSet("human_requested", True), ActionExecuted("action_listen")]
    assert texts(dispatcher)[0] == notices.fallback(outcome)
    if outcome == "no_reply":
        assert "had to step away" in texts(dispatcher)[0]
    else:
        assert "could join the chat in time" in texts(dispatcher)[0]
    assert "free 15-minute intro call" in texts(dispatcher)[1]
    assert dispatcher.messages[1]["buttons"] == [BOOK]
    (callback,) = callbacks()
    assert (callback.conversation_id, callback.channel, callback.status) == (
        "test-visitor",
        "socketio",
        "open",
    )
    assert callback.note == "a live chat was asked for; nobody could reply in time"


async def test_fallback_with_a_contact(visitor, database: str, domain) -> None:
    """A known contact: the team will reach the visitor there, no booking button."""
    closed_handoff("no_reply")
    dispatcher = CollectingDispatcher()
    tracker = visitor("telegram", slots={"lead_contact": "+1 415 555 0100"})
    await ActionHandoffFallback().run(dispatcher, tracker, domain)
    assert "contact you at +1 415 555 0100" in texts(dispatcher)[1]
    assert not dispatcher.messages[1].get("buttons")
    assert callbacks()[0].contact == "+1 415 555 0100"


# --- action_handback ----------------------------------------------------------------------------


async def test_handback_closes_an_open_form_and_offers_the_booking(visitor, domain) -> None:
    """A form left open during the takeover is closed; the call and the assessment are offered."""
    tracker = visitor(
        "socketio",
        intent="thank",
        active_loop="assessment_form",
        slots={"requested_slot": "support"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionHandback().run(dispatcher, tracker, domain)

    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), LISTENED]
    (message,) = dispatcher.messages
    assert "free 15-minute intro call" in message["text"]
    assert message["buttons"] == [
        BOOK,
        {"title": "Help me decide", "payload": "/request_assessment"},
    ]


async def test_handback_after_a_recommendation_offers_only_the_booking(visitor, domain) -> None:
    """No form open and a recommendation given: nothing to close, just the booking."""
    tracker = visitor("socketio", intent="thank", slots={"recommendation": "both"})
    dispatcher = CollectingDispatcher()
    events = await ActionHandback().run(dispatcher, tracker, domain)
    assert events == [LISTENED]
    assert dispatcher.messages[0]["buttons"] == [BOOK]


async def test_handback_with_a_booking_repeats_the_reference(visitor, domain) -> None:
    """Already booked: the reference is repeated and no booking is offered again."""
    tracker = visitor("telegram", intent="thank", slots={"booking_id": "PR-7K2M9Q"})
    dispatcher = CollectingDispatcher()
    events = await ActionHandback().run(dispatcher, tracker, domain)
    assert events == [LISTENED]
    (message,) = dispatcher.messages
    assert "still booked (reference PR-7K2M9Q)" in message["text"]
    assert not message.get("buttons")
