"""Transcripts with contact details and other personal values masked, for the reviewer role."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import phonenumbers

from bot.conversations.transcript import (
    BotMessage,
    Entity,
    Item,
    SlotChange,
    Transcript,
    VisitorMessage,
)

if TYPE_CHECKING:
    from bot.db.models import Lead

MASK = "•••"
PERSONAL_SLOTS = frozenset(
    {"lead_name", "lead_email", "lead_phone", "lead_contact", "lead_summary"}
)
PHONE_REGION = "US"
MIN_VALUE_LENGTH = 3
EMAIL = re.compile(r"[^\s<>()\"',;:{}\[\]]+@[^\s<>()\"',;:{}\[\]]+\.[A-Za-z]{2,}")
DIGIT_RUN = re.compile(r"(?<![\w])\+?\d(?:[ .()\-]{0,2}\d){6,}(?!\w)")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NAME_PART = re.compile(r"[^\W\d_]{3,}")


def mask_transcript(transcript: Transcript, known: Iterable[str] = ()) -> Transcript:
    """A copy with emails, phone numbers and personal values masked; intents kept.

    `known` adds personal values from elsewhere (the lead's name, email, phone...). Visitor
    messages that answered a question of the lead form are masked whole.
    """
    running = RunningMask(known)
    items = running.mask(transcript)
    slots = {name: running.masker.slot(name, value) for name, value in transcript.slots.items()}
    return Transcript(items=items, slots=slots)


class RunningMask:
    """Masks a conversation's items batch by batch as they arrive, each item once.

    It keeps what masking needs from earlier batches: the personal values seen so far and the
    lead-form question open last. An item is masked with the values known when it arrives (a
    value that only turns up later cannot reach back into items already shown).
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        """Start with `known` personal values (the lead's details) and no question open."""
        self.values: set[str] = set()
        self.masker = Masker(())
        self.asked: Any = None
        self.learn(known)

    def learn(self, values: Iterable[str]) -> None:
        """Add personal values to mask from now on."""
        new = {str(value) for value in values if value} - self.values
        if new:
            self.values |= new
            self.masker = Masker(self.values)

    def mask(self, transcript: Transcript) -> list[Item]:
        """The next items (in stored order) masked, learning the personal values they set."""
        self.learn(personal_values(transcript, ()))
        items: list[Item] = []
        for item in transcript.items:
            if isinstance(item, SlotChange) and item.name == "requested_slot":
                self.asked = item.value
            items.append(self.masker.item(item, answering=self.asked in PERSONAL_SLOTS))
        return items


def lead_values(leads: Iterable[Lead]) -> list[str]:
    """The personal details the leads of a conversation hold (name, email, phone, summary)."""
    return [
        value
        for lead in leads
        for value in (lead.name, lead.email, lead.phone, lead.summary)
        if value
    ]


def personal_values(transcript: Transcript, known: Iterable[str]) -> list[str]:
    """The personal values to mask: `known`, personal slot values and the parts of names."""
    values = [str(v) for v in known if v]
    for item in transcript.items:
        if not isinstance(item, SlotChange) or item.name not in PERSONAL_SLOTS:
            continue
        if isinstance(item.value, str) and item.value:
            values.append(item.value)
            if item.name == "lead_name":
                values += NAME_PART.findall(item.value)
    for name in ("lead_name", "lead_contact", "lead_email", "lead_phone", "lead_summary"):
        value = transcript.slots.get(name)
        if isinstance(value, str) and value:
            values.append(value)
    return values


class Masker:
    """Masks text, items and slot values given the personal values of one conversation."""

    def __init__(self, values: Iterable[str]) -> None:
        """Compile one case-insensitive pattern for the values (longest first)."""
        unique = sorted(
            {v.strip() for v in values if len(v.strip()) >= MIN_VALUE_LENGTH},
            key=len,
            reverse=True,
        )
        parts = [
            rf"(?<!\w){re.escape(v)}(?!\w)" if v[0].isalnum() else re.escape(v) for v in unique
        ]
        self.values = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def text(self, text: str) -> str:
        """Mask personal values, emails, phone numbers and long digit runs in free text."""
        if self.values is not None:
            text = self.values.sub(MASK, text)
        text = EMAIL.sub(MASK, text)
        text = mask_phones(text)
        return DIGIT_RUN.sub(lambda m: m.group(0) if ISO_DATE.fullmatch(m.group(0)) else MASK, text)

    def value(self, value: Any) -> Any:
        """Mask a slot or entity value (strings and lists of strings; others unchanged)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def slot(self, name: str, value: Any) -> Any:
        """A slot value as the reviewer sees it: personal slots show MASK when set."""
        if name in PERSONAL_SLOTS:
            return None if value is None else MASK
        return self.value(value)

    def item(self, item: Item, *, answering: bool) -> Item:
        """One transcript item masked; `answering` marks a reply to a personal question."""
        if isinstance(item, VisitorMessage):
            if answering:
                entities = [Entity(e.entity, MASK, None, None) for e in item.entities]
                return replace(item, text=MASK, entities=entities)
            entities = [replace(e, value=self.value(e.value)) for e in item.entities]
            return replace(item, text=self.text(item.text), entities=entities)
        if isinstance(item, BotMessage):
            return replace(
                item, text=self.text(item.text), buttons=[self.text(b) for b in item.buttons]
            )
        if isinstance(item, SlotChange):
            return replace(item, value=self.slot(item.name, item.value))
        return item


def mask_phones(text: str) -> str:
    """Replace every phone number libphonenumber finds (US numbering by default)."""
    matches = list(
        phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    )
    for match in reversed(matches):
        text = text[: match.start] + MASK + text[match.end :]
    return text
