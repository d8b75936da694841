"""A conversation's stored Rasa events as a readable transcript for staff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from bot.conversations import speaker
from bot.intake.emergency import RED_FLAG
from bot.intake.risk import Assessment, stored_assessment
from bot.rasa.events import StoredEvent

HIDDEN_ACTIONS = {"action_listen", "action_session_start"}
EMERGENCY_INTENT = "emergency"


@dataclass(frozen=True)
class Entity:
    """An entity the NLU found in a visitor message."""

    entity: str
    value: Any
    start: int | None
    end: int | None


@dataclass(frozen=True)
class EventItem:
    """A transcript item made from one stored event: the event's id and time."""

    kind: ClassVar[str]
    event_id: int
    at: datetime


@dataclass(frozen=True)
class Message(EventItem):
    """A message in the chat, the visitor's or the assistant's (or a staff member's)."""

    text: str


@dataclass(frozen=True)
class VisitorMessage(Message):
    """What the visitor wrote, with the predicted intent, its confidence and the entities."""

    kind: ClassVar[str] = "visitor"
    intent: str | None
    confidence: float | None
    entities: list[Entity]
    channel: str | None
    risk: Assessment | None = None  # None for messages from before the risk annotation

    @property
    def red_flags(self) -> list[str]:
        """The kinds the emergency guard flagged in this message ("acute", "crisis"...)."""
        return [str(e.value) for e in self.entities if e.entity == RED_FLAG]

    @property
    def emergency(self) -> bool:
        """Whether the guard, the classifier or the risk level (numbers given) flagged it."""
        at_risk = self.risk is not None and self.risk.alerting
        return bool(self.red_flags) or self.intent == EMERGENCY_INTENT or at_risk


@dataclass(frozen=True)
class BotMessage(Message):
    """What the assistant replied, its button titles and the action that sent it."""

    kind: ClassVar[str] = "bot"
    buttons: list[str]
    action: str | None
    handoff: str | None = None  # sent by staff: "staff_message", "joined" or "handed_back"
    staff_name: str | None = None  # the staff member it was sent by

    @property
    def from_staff(self) -> bool:
        """Whether a staff member wrote this (or joined or handed back), not the assistant."""
        return self.handoff is not None


@dataclass(frozen=True)
class ActionRun(EventItem):
    """An action the assistant ran, with the policy that chose it."""

    kind: ClassVar[str] = "action"
    action: str
    policy: str | None
    confidence: float | None


@dataclass(frozen=True)
class SlotChange(EventItem):
    """A slot set (or cleared, value None) during the conversation."""

    kind: ClassVar[str] = "slot"
    name: str
    value: Any


@dataclass(frozen=True)
class SessionStart(EventItem):
    """The start of a conversation session."""

    kind: ClassVar[str] = "session"


Item = VisitorMessage | BotMessage | ActionRun | SlotChange | SessionStart


@dataclass(frozen=True)
class Transcript:
    """The items in stored order and each slot's last value (across all sessions)."""

    items: list[Item]
    slots: dict[str, Any] = field(default_factory=dict)

    def visitor_messages(self) -> list[VisitorMessage]:
        """Only the visitor's messages."""
        return [item for item in self.items if isinstance(item, VisitorMessage)]


def build_transcript(events: Iterable[StoredEvent]) -> Transcript:
    """The transcript of one conversation's events (oldest first)."""
    items: list[Item] = []
    slots: dict[str, Any] = {}
    last_action: str | None = None
    for event in events:
        item = to_item(event, last_action)
        if isinstance(item, ActionRun):
            last_action = item.action
        if isinstance(item, SlotChange):
            slots[item.name] = item.value
        if item is not None and not hidden(item):
            items.append(item)
    return Transcript(items=items, slots=slots)


def hidden(item: Item) -> bool:
    """Whether an item is bookkeeping staff need not see (listening, session-start action)."""
    return isinstance(item, ActionRun) and item.action in HIDDEN_ACTIONS


def to_item(event: StoredEvent, last_action: str | None) -> Item | None:
    """The transcript item for one event, or None for events staff need not see."""
    data = event.data
    if event.type_name == "user":
        return visitor_message(event)
    if event.type_name == "bot":
        return bot_message(event, last_action)
    if event.type_name == "action" and data.get("name"):
        return ActionRun(
            event.id, event.at, data["name"], data.get("policy"), data.get("confidence")
        )
    if event.type_name == "slot" and data.get("name"):
        return SlotChange(event.id, event.at, data["name"], data.get("value"))
    if event.type_name == "session_started":
        return SessionStart(event.id, event.at)
    return None


def bot_message(event: StoredEvent, last_action: str | None) -> BotMessage:
    """A BotMessage from a `bot` event; `metadata.handoff` marks one sent by staff."""
    data = event.data
    metadata = data.get("metadata") or {}
    buttons = (data.get("data") or {}).get("buttons") or []
    kind = speaker.kind_of(data)
    return BotMessage(
        event_id=event.id,
        at=event.at,
        text=data.get("text") or "",
        buttons=[str(b.get("title", "")) for b in buttons if isinstance(b, dict)],
        action=metadata.get("utter_action") or (None if kind else last_action),
        handoff=kind,
        staff_name=(speaker.named(data) or "A team member") if kind else None,
    )


def visitor_message(event: StoredEvent) -> VisitorMessage:
    """A VisitorMessage from a `user` event's parse data."""
    data = event.data
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    return VisitorMessage(
        event_id=event.id,
        at=event.at,
        text=data.get("text") or "",
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[to_entity(e) for e in parse.get("entities") or [] if isinstance(e, dict)],
        channel=data.get("input_channel"),
        risk=stored_assessment(parse),
    )


def to_entity(raw: dict[str, Any]) -> Entity:
    """An Entity from Rasa's entity dict."""
    return Entity(str(raw.get("entity", "")), raw.get("value"), raw.get("start"), raw.get("end"))
