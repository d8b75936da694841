"""The live page's chat and takeover state, as plain text for the page and its script."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.transcript import BotMessage, Item, VisitorMessage
from bot.db.handoffs import Handoff
from bot.db.staff import StaffUser
from bot.handoff import state
from bot.intake.emergency import ACUTE, CRISIS
from bot.intake.risk import HIGH, Assessment

FLAG_LABELS = {
    CRISIS: "Crisis — the assistant sent 988 (and 911 for immediate danger)",
    ACUTE: "Emergency — the assistant sent 911",
}
FLAGGED = "Emergency — the assistant sent 911/988"
POSSIBLE = "Possible emergency (not flagged by the guard): make sure the visitor is safe"
MODERATE = "Possible risk — the assistant gave 911/988 first: make sure the visitor is safe"
FORMER = "A former team member"
OUTCOME_LABELS = {
    "handed_back": "handed back to the assistant",
    "no_reply": "no staff reply in time: call back offered",
    "unclaimed": "nobody joined in time: call back offered",
    "out_of_hours": "asked outside staff hours: call back offered",
    "cancelled": "cancelled by staff",
}


def emergency_label(message: object) -> str:
    """What a visitor message's emergency highlight says ("" for an ordinary message)."""
    if not isinstance(message, VisitorMessage) or not message.emergency:
        return ""
    kinds = message.red_flags
    if not kinds:
        return risk_label(message.risk) if message.risk and message.risk.alerting else POSSIBLE
    for kind in (CRISIS, ACUTE):
        if kind in kinds:
            return FLAG_LABELS[kind]
    return FLAGGED


def risk_label(risk: Assessment) -> str:
    """The highlight of a message the risk annotation flagged (level high or moderate)."""
    if risk.level != HIGH:
        return MODERATE
    return FLAG_LABELS.get(risk.kind or "", FLAGGED)


def moment(value: datetime) -> str:
    """A message's time as the live page shows it (UTC, to the second)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


@dataclass(frozen=True)
class ChatItem:
    """One message of the live chat: who wrote it, the text, and any emergency label."""

    id: int
    sender: str  # "visitor", "bot" or "staff"
    name: str
    text: str
    at: str
    flag: str = ""  # the emergency label of a visitor message
    note: bool = False  # a staff member joined or handed back (what the visitor was told)

    def as_json(self) -> dict[str, Any]:
        """The item for live.json (plain text: the script puts it in with textContent)."""
        return {
            "id": self.id,
            "from": self.sender,
            "name": self.name,
            "text": self.text,
            "at": self.at,
            "emergency": bool(self.flag),
            "flag": self.flag,
            "note": self.note,
        }


def chat_item(item: Item) -> ChatItem | None:
    """The chat line of a visitor or bot message (None for actions, slots, sessions)."""
    if isinstance(item, VisitorMessage):
        return ChatItem(
            item.event_id,
            "visitor",
            "Visitor",
            item.text,
            moment(item.at),
            flag=emergency_label(item),
        )
    if not isinstance(item, BotMessage):
        return None
    text = "\n".join([item.text, *(f"[{title}]" for title in item.buttons)]).strip()
    if item.from_staff:
        note = item.handoff != "staff_message"
        return ChatItem(
            item.event_id, "staff", item.staff_name or FORMER, text, moment(item.at), note=note
        )
    return ChatItem(item.event_id, "bot", "Assistant", text, moment(item.at))


def chat_items(items: Iterable[Item]) -> list[ChatItem]:
    """The chat lines of transcript items, in order."""
    return [line for line in map(chat_item, items) if line is not None]


@dataclass(frozen=True)
class LiveState:
    """Where a conversation's takeover stands, as seen by one staff member."""

    key: str  # "none", "waiting", "mine" or "other"
    text: str
    handoff: Handoff | None = None
    holder: str | None = None  # who holds a claimed conversation

    def as_json(self) -> dict[str, str]:
        """The state for live.json."""
        return {"key": self.key, "text": self.text}


def staff_names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Staff display names by id (accounts that no longer exist are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted)))
    return {staff_id: name for staff_id, name in rows}


def handoffs_of(db: Session, conversation_id: str) -> list[Handoff]:
    """Every handoff of one conversation, oldest first."""
    return list(
        db.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id)
        )
    )


def live_state(db: Session, conversation_id: str, user: StaffUser) -> LiveState:
    """The conversation's open handoff (if any) described for `user`."""
    handoff = state.open_handoff(db, conversation_id)
    holder = holder_of(db, handoff)
    return state_for(handoff, holder, user.id, user.display_name)


def holder_of(db: Session, handoff: Handoff | None) -> str:
    """The display name of whoever holds a claimed handoff ("" when nobody does)."""
    if handoff is None or handoff.claimed_by_id is None:
        return ""
    return staff_names(db, [handoff.claimed_by_id]).get(handoff.claimed_by_id, FORMER)


def state_for(handoff: Handoff | None, holder: str, user_id: int, user_name: str) -> LiveState:
    """An open handoff (or None) held by `holder`, described for the staff member `user_id`."""
    if handoff is None:
        return LiveState("none", "Not in a takeover: the assistant is answering.")
    if handoff.status == "waiting":
        since = moment(handoff.requested_at)
        return LiveState("waiting", f"Waiting for a navigator since {since}.", handoff)
    if handoff.claimed_by_id == user_id:
        text = "You are in this chat: the assistant is paused and the visitor sees your messages."
        return LiveState("mine", text, handoff, user_name)
    holder = holder or FORMER
    return LiveState(
        "other", f"{holder} is in this chat: the assistant is paused.", handoff, holder
    )
