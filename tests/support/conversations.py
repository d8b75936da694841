"""Real Rasa conversations for tests, stored in an `events` table exactly as Rasa stores them.

A `Script` appends Rasa's own event objects (`UserUttered`, `BotUttered`, `ActionExecuted`,
`SlotSet`, `ActiveLoop`, `SessionStarted`, ...) in the order Rasa's processor logs them; bot
replies of `utter_*` actions come from domain.yml. The builders below return whole
conversations; `write_conversation` stores them through Rasa's `SQLTrackerStore` (given a URL)
or serialises them the way that store does inside a caller's session (given a Session).

    events = booked_conversation(start=at(day=2), channel="socketio", name="Sam Rivera")
    write_conversation(migrated_url, "conv-booked", events)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.core.paths import ROOT
from bot.intake.recommendation import recommend
from bot.rasa.events import (
    StoredEvent,
    ensure_events_table,
    events_table,
    load_events,
    to_event,
)
from bot.rasa.runtime.tracker_store import connection_fields

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=timezone.utc)  # a Monday, 15:00 UTC
DEFAULT_ANSWERS = {
    "scope": "complex",
    "decisions": "many",
    "need": "answer",
    "support": "has_support",
}
ADVOCACY_ANSWERS = {"scope": "complex", "decisions": "many", "need": "navigate", "support": "alone"}
SECOND_OPINION_ANSWERS = {
    "scope": "bounded",
    "decisions": "one_time",
    "need": "answer",
    "support": "has_support",
}
LOW_CONFIDENCE_TEXT = "my dad's doctors don't talk to each other"
FALLBACK_TEXT = "purple monkey dishwasher"
FALLBACK_THRESHOLD = 0.4  # config.yml: FallbackClassifier threshold


def at(day: int = 0, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant `day` days, `hour` hours and `minute` minutes after T0."""
    return T0 + timedelta(days=day, hours=hour, minutes=minute)


@lru_cache(maxsize=1)
def domain() -> Domain:
    """The project's domain.yml (loaded once per test run)."""
    return Domain.load(str(ROOT / "domain.yml"))


def response(name: str) -> dict[str, Any]:
    """The unconditional variant of a domain response, with button payloads rendered."""
    variant = next(v for v in domain().responses[name] if not v.get("condition"))
    buttons = [
        {"title": b["title"], "payload": b["payload"].replace("{{", "{").replace("}}", "}")}
        for b in variant.get("buttons", [])
    ]
    return {"text": variant["text"], "buttons": buttons or None}


def bot_data(buttons: Sequence[dict[str, str]] | None) -> dict[str, Any]:
    """A BotUttered `data` dict as rasa.core.actions.action.create_bot_utterance builds it."""
    return {
        "elements": None,
        "quick_replies": None,
        "buttons": list(buttons) if buttons else None,
        "attachment": None,
        "image": None,
        "custom": None,
    }


class Script:
    """Builds the events Rasa logs for a conversation, step by step, on a ticking clock."""

    def __init__(self, start: datetime = T0, channel: str = "rest", step: float = 4.0) -> None:
        """Start at `start`; visitor messages arrive on `channel`; `step` seconds per event."""
        self.clock = start.timestamp()
        self.channel = channel
        self.step = step
        self.events: list[Event] = []

    def _now(self) -> float:
        """The next event's timestamp."""
        self.clock += self.step
        return self.clock

    def add(self, *events: Event) -> Script:
        """Append ready-made events."""
        self.events.extend(events)
        return self

    def session_start(self) -> Script:
        """What action_session_start logs: the action, SessionStarted, then listening."""
        self.add(ActionExecuted("action_session_start", timestamp=self._now()))
        self.add(SessionStarted(timestamp=self._now()))
        return self.listen()

    def listen(self) -> Script:
        """The bot waits for the visitor (action_listen)."""
        return self.add(ActionExecuted("action_listen", "RulePolicy", 1.0, timestamp=self._now()))

    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.97,
        entities: Iterable[dict[str, Any]] = (),
        ranking: Sequence[tuple[str, float]] = (),
    ) -> Script:
        """A visitor message with its NLU result, as the processor logs it."""
        intent_dict = {"name": intent, "confidence": confidence}
        ranked = [intent_dict, *({"name": n, "confidence": c} for n, c in ranking)]
        message_id = uuid4().hex
        parse_data = {
            "intent": intent_dict,
            "entities": list(entities),
            "text": text,
            "message_id": message_id,
            "metadata": {},
            "intent_ranking": ranked,
            "response_selector": {"all_retrieval_intents": []},
        }
        when = self._now()
        self.add(
            UserUttered(
                text, intent_dict, list(entities), parse_data, when, self.channel, message_id
            )
        )
        return self.add(DefinePrevUserUtteredFeaturization(False, timestamp=self._now()))

    def action(self, name: str, policy: str = "RulePolicy", confidence: float = 1.0) -> Script:
        """An executed action (the event Rasa logs before the action's own events)."""
        return self.add(ActionExecuted(name, policy, confidence, timestamp=self._now()))

    def say(
        self,
        text: str,
        buttons: Sequence[dict[str, str]] | None = None,
        utter_action: str | None = None,
    ) -> Script:
        """A bot message (metadata names the response for `utter_*` responses)."""
        metadata = {"utter_action": utter_action} if utter_action else {}
        return self.add(BotUttered(text, bot_data(buttons), metadata, timestamp=self._now()))

    def utter(self, *names: str) -> Script:
        """Run `utter_*` actions: each logs the action, then the domain's reply."""
        for name in names:
            reply = response(name)
            self.action(name).say(reply["text"], reply["buttons"], utter_action=name)
        return self

    def slots(self, **values: Any) -> Script:
        """SlotSet events, in the order given."""
        return self.add(*(SlotSet(k, v, timestamp=self._now()) for k, v in values.items()))

    def loop(self, name: str | None) -> Script:
        """An ActiveLoop event (a form starting, or None when it ends)."""
        return self.add(ActiveLoop(name, timestamp=self._now()))

    def form_step(self, form: str, filled: dict[str, Any], next_slot: str | None) -> Script:
        """A form turn: the form action, the filled slots, then its next question or its end."""
        self.action(form).slots(**filled)
        if next_slot is None:
            return self.loop(None).slots(requested_slot=None)
        return self.slots(requested_slot=next_slot).utter(f"utter_ask_{next_slot}")


def greeting(script: Script, text: str = "hi there") -> Script:
    """Session start, a greeting, and the privacy notice."""
    script.session_start().user(text, "greet", 0.99)
    return script.utter("utter_greet", "utter_privacy_notice").listen()


def greeted(start: datetime = T0, channel: str = "rest") -> Script:
    """A new conversation's script at `start`, greeted (see `greeting`)."""
    return greeting(Script(start, channel))


def assessment(script: Script, answers: dict[str, str]) -> str:
    """The four-question assessment with button answers; returns the recommendation."""
    kind = recommend(answers).kind
    script.user("Which one is right for me?", "request_assessment", 0.95)
    script.action("action_start_assessment").say(
        "Let's work it out together: 4 quick questions, tap a button or answer in your own words."
    ).slots(assessment_reask=None)
    script.action("assessment_form").loop("assessment_form").slots(requested_slot="scope")
    script.utter("utter_ask_scope").listen()
    order = ["scope", "decisions", "need", "support"]
    for slot, following in zip(order, [*order[1:], None], strict=True):
        value = answers[slot]
        payload = json.dumps({slot: value})
        script.user(
            f"/inform{payload}",
            "inform",
            1.0,
            [{"entity": slot, "start": 7, "end": 7 + len(payload), "value": value}],
        )
        script.form_step("assessment_form", {slot: value}, following)
        if following:
            script.listen()
    script.action("action_recommend").say(
        f"From your answers, {kind.replace('_', ' ')} fits best. Would you like to talk it "
        "through on a free 15-minute call?",
        [{"title": "Book the free call", "payload": "/book_call"}],
    ).slots(recommendation=kind, assessment_reask=None)
    script.listen()
    return kind


def lead_form(script: Script, name: str, contact: str, summary: str) -> None:
    """Yes to the call, then the lead form answered in free text, then the saved lead."""
    script.user("yes please", "affirm", 0.98).utter("utter_booking_intro")
    script.action("lead_form").loop("lead_form").slots(requested_slot="lead_name")
    script.utter("utter_ask_lead_name").listen()
    script.user(f"I'm {name}", "inform", 0.88)
    script.form_step("lead_form", {"lead_name": name}, "lead_contact").listen()
    script.user(contact, "inform", 0.91)
    script.form_step("lead_form", contact_slots(contact), "lead_timezone").listen()
    script.user(
        "Denver",
        "inform",
        0.83,
        [{"entity": "lead_timezone", "start": 0, "end": 6, "value": "America/Denver"}],
    )
    script.form_step("lead_form", {"lead_timezone": "America/Denver"}, "lead_summary").listen()
    script.user(summary, "inform", 0.64)
    script.form_step("lead_form", {"lead_summary": summary}, "lead_consent").listen()
    script.user("yes, you may", "affirm", 0.99)
    script.form_step("lead_form", {"lead_consent": True}, None)
    script.action("action_save_lead").say(f"Thank you, {name}. Now let's find a time.")
    script.slots(lead_id=1.0, lead_reask=None)


def contact_slots(contact: str) -> dict[str, Any]:
    """The slots validate_lead_form sets for an email address or a phone number."""
    from actions.leads import read_contact

    slots = read_contact(contact)
    if not slots:
        raise ValueError(f"not an email address or phone number: {contact!r}")
    return slots


def booking(script: Script, reference: str) -> None:
    """The booking form with one offered time chosen, then the confirmed booking."""
    choice = "2025-03-05T17:00:00+00:00"
    script.action("booking_form").loop("booking_form").slots(requested_slot="slot_choice")
    script.action("action_ask_slot_choice").say(
        "Here are the next free times (your time):",
        [{"title": "Wed 5 Mar, 10:00", "payload": "/inform" + json.dumps({"slot_choice": choice})}],
    ).slots(offered_slots=[choice]).listen()
    payload = json.dumps({"slot_choice": choice})
    script.user(
        f"/inform{payload}",
        "inform",
        1.0,
        [{"entity": "slot_choice", "start": 7, "end": 7 + len(payload), "value": choice}],
    )
    script.form_step("booking_form", {"slot_choice": choice}, None)
    script.action("action_book_slot").say(
        f"You're booked: Wednesday 5 March, 10:00 (MST). Your reference is {reference}. "
        "If anything changes, just tell me you'd like to move or cancel the call."
    ).slots(
        booking_id=reference,
        booking_time="Wednesday 5 March, 10:00 (MST)",
        reschedule_ref=None,
        slot_page_after=None,
        offered_slots=None,
    )
    script.listen()


def greeting_conversation(*, start: datetime = T0, channel: str = "rest") -> list[Event]:
    """Hello and the privacy notice, nothing else (outcome: none)."""
    return greeted(start, channel).events


def assessment_conversation(
    *, start: datetime = T0, channel: str = "rest", answers: dict[str, str] | None = None
) -> list[Event]:
    """Greeting and a completed assessment (default answers recommend 'both'), then a no."""
    script = greeted(start, channel)
    assessment(script, answers or DEFAULT_ANSWERS)
    script.user("no thanks", "deny", 0.97).utter("utter_anything_else").listen()
    return script.events


def lead_script(
    *,
    start: datetime = T0,
    channel: str = "rest",
    answers: dict[str, str] | None = None,
    name: str = "Sam Rivera",
    contact: str = "sam.rivera@example.com",
    summary: str = "My mother's cancer treatment plan",
) -> Script:
    """Greeting, a completed assessment, yes to the call, the lead form and the saved lead."""
    script = greeted(start, channel)
    assessment(script, answers or DEFAULT_ANSWERS)
    lead_form(script, name, contact, summary)
    return script


def lead_conversation(**details: Any) -> list[Event]:
    """A lead_script (`details` are its keywords) asked for a time; no time booked yet."""
    script = lead_script(**details)
    script.action("booking_form").loop("booking_form").slots(requested_slot="slot_choice")
    script.listen()
    return script.events


def booked_conversation(*, reference: str = "PR-7K2M9Q", **details: Any) -> list[Event]:
    """A lead_script (`details` are its keywords), then a confirmed intro call (booking_id)."""
    script = lead_script(**details)
    booking(script, reference)
    return script.events


def emergency_conversation(
    *,
    start: datetime = T0,
    channel: str = "rest",
    text: str = "I have crushing chest pain right now",
) -> list[Event]:
    """A greeting, then an emergency message: action_emergency and emergency_triggered."""
    script = greeted(start, channel)
    script.user(
        text,
        "emergency",
        0.99,
        [
            {
                "entity": "red_flag",
                "start": 0,
                "end": len(text),
                "value": "acute",
                "extractor": "MessageGuard",
            }
        ],
    )
    script.action("action_emergency")
    for line in (
        "This sounds like an emergency. Please call 911 now, or your local emergency number.",
        "I'll stop the questions here. When you're safe, I'm here if you want to continue.",
    ):
        script.say(line)
    script.slots(emergency_triggered=True).listen()
    return script.events


def fallback_conversation(
    *, start: datetime = T0, channel: str = "rest", text: str = FALLBACK_TEXT
) -> list[Event]:
    """A message the NLU could not place: nlu_fallback and the two-stage fallback's question."""
    script = greeted(start, channel)
    script.user(
        text,
        "nlu_fallback",
        FALLBACK_THRESHOLD,
        ranking=[("out_of_scope", 0.31), ("ask_cost", 0.22)],
    )
    script.action("action_two_stage_fallback").loop("action_two_stage_fallback")
    script.action("action_default_ask_affirmation").say(
        "Sorry, I'm not sure what you mean.",
        [{"title": "Something else", "payload": "/out_of_scope"}],
    ).listen()
    return script.events


def low_confidence_conversation(
    *, start: datetime = T0, channel: str = "rest", text: str = LOW_CONFIDENCE_TEXT
) -> list[Event]:
    """A message classified with low confidence (0.52, above the fallback threshold)."""
    script = greeted(start, channel)
    script.user(text, "situation_caregiver", 0.52, ranking=[("ask_advocacy", 0.3)])
    script.action("action_acknowledge_situation").say(
        "That sounds like a lot to coordinate, especially from a distance."
    ).slots(situation="caregiver").listen()
    return script.events


def human_conversation(*, start: datetime = T0, channel: str = "rest") -> list[Event]:
    """A visitor asks for a person: action_request_human and human_requested."""
    script = greeted(start, channel)
    script.user("can I talk to a real person?", "request_human", 0.96)
    script.action("action_request_human").say(
        "Of course. I've flagged this conversation for our team."
    ).slots(human_requested=True).listen()
    return script.events


def follow_up(
    *,
    start: datetime,
    channel: str = "rest",
    text: str = "thank you",
    intent: str = "thank",
    new_session: bool = False,
) -> list[Event]:
    """One more visitor message and its reply, to append to a stored conversation.

    `new_session` first starts a new session, as Rasa does after an hour of silence.
    """
    script = Script(start, channel)
    if new_session:
        script.session_start()
    script.user(text, intent, 0.98)
    if f"utter_{intent}" in domain().responses:
        script.utter(f"utter_{intent}")
    return script.listen().events


def stored_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The `events` row SQLTrackerStore.save writes for one event (same fields, same JSON)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def stored_events(
    events: Sequence[Event], sender_id: str = "conv-1", first_id: int = 1
) -> list[StoredEvent]:
    """The events as bot.conversations reads them back from the table (no database needed)."""
    return [
        to_event(SimpleNamespace(id=number, **stored_row(sender_id, event)))
        for number, event in enumerate(events, start=first_id)
    ]


def write_conversation(target: str | Session, sender_id: str, events: Sequence[Event]) -> int:
    """Append `events` to conversation `sender_id`; returns the number of rows written.

    A URL: Rasa's own SQLTrackerStore saves them (it creates `events` if needed, commits).
    A Session: the same rows are inserted in that session and flushed; the caller commits.
    """
    if isinstance(target, Session):
        ensure_events_table(target)
        target.execute(insert(events_table), [stored_row(sender_id, e) for e in events])
        target.flush()
        return len(events)
    store = tracker_store(target)
    try:
        return _run(_append(store, sender_id, events))
    finally:
        store.engine.dispose()


def write_three(url: str) -> None:
    """c-booked (socketio), c-emergency (a day later) and c-fallback (telegram), stored by Rasa."""
    write_conversation(url, "c-booked", booked_conversation(channel="socketio"))
    write_conversation(url, "c-emergency", emergency_conversation(start=at(day=1)))
    write_conversation(url, "c-fallback", fallback_conversation(channel="telegram"))


def visitor_event(session: Session, conversation_id: str, text: str) -> int:
    """The event id of the visitor message `text` in a stored conversation."""
    events = load_events(session, conversation_id)
    return next(e.id for e in events if e.type_name == "user" and e.data["text"] == text)


def tracker_store(url: str) -> SQLTrackerStore:
    """Rasa's SQLTrackerStore on `url`, with the project's domain."""
    return SQLTrackerStore(domain=domain(), **connection_fields(url))


async def _append(store: SQLTrackerStore, sender_id: str, events: Sequence[Event]) -> int:
    """Load the stored tracker, apply the new events and let the store save the new ones."""
    tracker = await store.retrieve(sender_id)
    if tracker is None:
        tracker = DialogueStateTracker(sender_id, domain().slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return len(events)


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    """Run a coroutine to completion, also from inside a running event loop (async tests)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
