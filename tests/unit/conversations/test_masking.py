"""The reviewer's masked transcript: no personal values left, everything else intact."""

from dataclasses import fields
from typing import Any

import pytest

from bot.conversations.masking import MASK, PERSONAL_SLOTS, mask_transcript
from bot.conversations.transcript import (
    BotMessage,
    SlotChange,
    Transcript,
    VisitorMessage,
    build_transcript,
)
from tests.support.conversations import (
    Script,
    at,
    booked_conversation,
    greeting,
    stored_events,
)

NAME = "Maria Lopez-Garcia"
EMAIL = "maria.lopez@example.org"
PHONE_TYPED = "(720) 555-0199"
SUMMARY = "Worried about my knee surgery"


def strings(value: Any) -> list[str]:
    """Every string inside a transcript, its items, entities, lists and dicts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for f in fields(value) for s in strings(getattr(value, f.name))]
    return []


def transcript(*extra: Script, contact: str = EMAIL) -> Transcript:
    """A booked conversation with the test's personal details, plus extra turns."""
    events = booked_conversation(name=NAME, contact=contact, summary=SUMMARY)
    for script in extra:
        events += script.events
    return build_transcript(stored_events(events))


def later(text: str, intent: str = "ask_cost") -> Script:
    """One more visitor message, after the booking."""
    return Script(at(hour=2)).user(text, intent, 0.9)


def leaked(masked: Transcript, *values: str) -> list[str]:
    """The strings in the masked transcript that still contain one of the values."""
    everything = " ".join(strings(masked)).lower()
    return [v for v in values if v.lower() in everything]


def test_lead_form_answers_and_personal_slots_are_masked() -> None:
    original = transcript(contact=PHONE_TYPED)
    masked = mask_transcript(original)
    assert leaked(masked, NAME, "Maria", "Lopez", "720", "555-0199", "+17205550199", SUMMARY) == []
    answers = [m.text for m in masked.visitor_messages() if m.intent == "inform"]
    assert answers.count(MASK) == 3  # name, contact, summary
    for before, after in zip(original.items, masked.items, strict=True):
        if isinstance(before, SlotChange) and before.name in PERSONAL_SLOTS:
            assert after.value == (None if before.value is None else MASK)
    assert masked.slots["lead_name"] == MASK and masked.slots["lead_phone"] == MASK
    assert masked.slots["lead_email"] is None


def test_personal_values_are_masked_wherever_they_appear_in_any_case() -> None:
    masked = mask_transcript(
        transcript(later("this is MARIA LOPEZ-GARCIA again, maria here", "inform"))
    )
    thanks = next(i for i in masked.items if isinstance(i, BotMessage) and "Thank you" in i.text)
    assert thanks.text == f"Thank you, {MASK}. Now let's find a time."
    assert masked.visitor_messages()[-1].text == f"this is {MASK} again, {MASK} here"


@pytest.mark.parametrize(
    "text",
    [
        "write to me at jo.smith+chat@mail.example.co.uk please",
        "my number is (555) 201-3344",
        "call +44 20 7946 0958 after six",
        "text 3035550142 tomorrow",
        "my member id is 123 456 7890 12",
    ],
)
def test_emails_phone_numbers_and_long_digit_runs_in_free_text(text: str) -> None:
    masked = mask_transcript(transcript(later(text)))
    last = masked.visitor_messages()[-1]
    assert MASK in last.text
    assert not any(ch.isdigit() for ch in last.text)
    assert "@" not in last.text
    assert last.intent == "ask_cost" and last.confidence == 0.9


def test_known_values_from_the_lead_row_are_masked() -> None:
    masked = mask_transcript(
        transcript(later("ask for jordan blake at home")), known=["Jordan Blake", ""]
    )
    assert masked.visitor_messages()[-1].text == f"ask for {MASK} at home"


def test_a_form_answer_is_masked_whole_with_its_entities() -> None:
    script = greeting(Script())
    script.utter("utter_booking_intro").action("lead_form").loop("lead_form")
    script.slots(requested_slot="lead_summary").utter("utter_ask_lead_summary").listen()
    found = {"entity": "condition", "start": 18, "end": 31, "value": "heart failure"}
    script.user("my dad in Tucson, heart failure", "inform", 0.7, [found])
    masked = mask_transcript(build_transcript(stored_events(script.events)))
    answer = masked.visitor_messages()[-1]
    assert answer.text == MASK
    assert [(e.entity, e.value) for e in answer.entities] == [("condition", MASK)]
    assert (answer.intent, answer.confidence) == ("inform", 0.7)


def test_everything_else_is_kept() -> None:
    original = transcript(contact=PHONE_TYPED)
    masked = mask_transcript(original)
    assert len(masked.items) == len(original.items)
    for before, after in zip(original.items, masked.items, strict=True):
        assert type(before) is type(after) and before.event_id == after.event_id
        if isinstance(before, VisitorMessage):
            assert (after.intent, after.confidence) == (before.intent, before.confidence)
    texts = [m.text for m in masked.visitor_messages()]
    assert "Denver" in texts and "yes, you may" in texts
    assert '/inform{"slot_choice": "2025-03-05T17:00:00+00:00"}' in texts
    bot = " ".join(i.text for i in masked.items if isinstance(i, BotMessage))
    for kept in ("911", "988", "15-minute", "PR-7K2M9Q", "Wednesday 5 March, 10:00"):
        assert kept in bot
    assert masked.slots["booking_id"] == "PR-7K2M9Q"
    assert masked.slots["lead_timezone"] == "America/Denver"
    assert masked.slots["slot_choice"] == "2025-03-05T17:00:00+00:00"
    assert masked.slots["recommendation"] == "both"


def test_the_original_transcript_is_unchanged() -> None:
    original = transcript()
    mask_transcript(original)
    assert original.slots["lead_name"] == NAME
    assert f"I'm {NAME}" in [m.text for m in original.visitor_messages()]
