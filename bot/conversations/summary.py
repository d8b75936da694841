"""What one conversation amounted to: channel, times, outcome and the flags staff filter on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.conversations.masking import mask_transcript
from bot.conversations.transcript import (
    ActionRun,
    SlotChange,
    Transcript,
    VisitorMessage,
    build_transcript,
)
from bot.rasa.events import StoredEvent

LOW_CONFIDENCE = 0.6
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {
    "action_default_fallback",
    "action_default_ask_affirmation",
    "action_default_ask_rephrase",
    "action_two_stage_fallback",
}
UNKNOWN_CHANNEL = "unknown"
SEARCH_TEXT_LIMIT = 20_000
PREVIEW_LIMIT = 120  # characters of the first message the inbox shows (the column holds 200)
ELLIPSIS = "…"


@dataclass(frozen=True)
class ConversationFacts:
    """What one conversation amounted to, as the index stores it and the inbox shows it."""

    channel: str
    started_at: datetime
    last_at: datetime
    user_messages: int
    outcome: str
    recommendation: str | None
    emergency: bool
    fallback: bool
    low_confidence: bool
    human_requested: bool
    preview: str | None  # the first typed visitor message, masked and shortened
    preview_personal: str | None  # the same message as typed (for roles that see personal data)


@dataclass(frozen=True)
class Summary(ConversationFacts):
    """The indexed facts about one conversation, with the text searches match."""

    search_text: str


def summarise(events: Sequence[StoredEvent], *, lead: Any = None, booked: bool = False) -> Summary:
    """Summarise a non-empty list of one conversation's events (oldest first).

    `lead` is the conversation's Lead row (or anything truthy if one exists); `booked` says
    whether one of its leads has a confirmed booking.
    """
    if not events:
        raise ValueError("a conversation needs at least one event")
    transcript = build_transcript(events)
    masked = mask_transcript(transcript)
    visitor = transcript.visitor_messages()
    recommendation = last_value_set(transcript, "recommendation")
    return Summary(
        channel=next((m.channel for m in visitor if m.channel), UNKNOWN_CHANNEL),
        started_at=events[0].at,
        last_at=events[-1].at,
        user_messages=len(visitor),
        outcome=outcome(transcript, recommendation, lead=lead, booked=booked),
        recommendation=recommendation,
        emergency=flagged(transcript, "emergency", "action_emergency", "emergency_triggered")
        or at_risk(visitor),
        fallback=had_fallback(transcript),
        low_confidence=any(low_confidence(m) for m in visitor),
        human_requested=flagged(
            transcript, "request_human", "action_request_human", "human_requested"
        ),
        search_text=search_text(transcript, masked),
        preview=preview(transcript, masked),
        preview_personal=preview(transcript, transcript),
    )


def outcome(transcript: Transcript, recommendation: str | None, *, lead: Any, booked: bool) -> str:
    """booked, lead (without booking), recommendation (only) or none."""
    if booked or transcript.slots.get("booking_id"):
        return "booked"
    if lead or last_value_set(transcript, "lead_id") is not None:
        return "lead"
    return "recommendation" if recommendation else "none"


def last_value_set(transcript: Transcript, slot: str) -> Any:
    """The last non-empty value a slot was set to in the conversation, or None."""
    values = [i.value for i in transcript.items if isinstance(i, SlotChange) and i.name == slot]
    return next((value for value in reversed(values) if value not in (None, "")), None)


def flagged(transcript: Transcript, intent: str, action: str, slot: str) -> bool:
    """Whether the intent was predicted, the action ran or the flag slot was set true."""
    for item in transcript.items:
        if isinstance(item, VisitorMessage) and item.intent == intent:
            return True
        if isinstance(item, ActionRun) and item.action == action:
            return True
        if isinstance(item, SlotChange) and item.name == slot and item.value is True:
            return True
    return False


def at_risk(visitor: Sequence[VisitorMessage]) -> bool:
    """Whether a visitor message's risk level (high or moderate) had the numbers given."""
    return any(m.risk is not None and m.risk.alerting for m in visitor)


def had_fallback(transcript: Transcript) -> bool:
    """Whether the NLU fell back or a fallback action ran."""
    return any(
        (isinstance(item, VisitorMessage) and item.intent == FALLBACK_INTENT)
        or (isinstance(item, ActionRun) and item.action in FALLBACK_ACTIONS)
        for item in transcript.items
    )


def low_confidence(message: VisitorMessage) -> bool:
    """A visitor message the NLU was unsure about (below LOW_CONFIDENCE, or a fallback)."""
    if message.intent == FALLBACK_INTENT:
        return True
    return message.confidence is not None and message.confidence < LOW_CONFIDENCE


def search_text(transcript: Transcript, masked: Transcript) -> str:
    """Lower-cased visitor messages and booking references, one per line, for LIKE searches.

    Messages come from `masked` (personal details, i.e. names, emails, phone numbers and
    lead-form answers, masked), so the index never holds them and no role can find a
    conversation by a person's details.
    """
    lines = [" ".join(m.text.split()) for m in masked.visitor_messages() if m.text]
    lines += [
        str(item.value)
        for item in transcript.items
        if isinstance(item, SlotChange) and item.name == "booking_id" and item.value
    ]
    return "\n".join(lines).lower()[:SEARCH_TEXT_LIMIT]


def preview(transcript: Transcript, masked: Transcript) -> str | None:
    """The first typed visitor message as `masked` shows it, shortened; None if none was typed.

    Button payloads ("/intent{...}") are skipped. The text is masked before it is cut, so a cut
    never leaves part of an email or phone number unrecognised. Given the transcript itself as
    `masked`, the message as typed (for roles allowed to see personal details).
    """
    pairs = zip(transcript.visitor_messages(), masked.visitor_messages(), strict=True)
    for message, shown in pairs:
        if message.text.strip() and not message.text.lstrip().startswith("/"):
            return shorten(" ".join(shown.text.split()))
    return None


def shorten(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """`text` cut to at most `limit` characters, at a word boundary if one is near, plus "…"."""
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit + 1)
    cut = text[:space] if space >= limit // 2 else text[:limit]
    return cut.rstrip(" ,;:.-") + ELLIPSIS
