"""The inbox preview: the first typed visitor message, masked, whitespace collapsed, shortened."""

import pytest

from bot.conversations.masking import MASK, mask_transcript
from bot.conversations.summary import ELLIPSIS, PREVIEW_LIMIT, shorten, summarise
from bot.conversations.transcript import build_transcript
from tests.support.conversations import (
    Script,
    booked_conversation,
    greeting,
    greeting_conversation,
    stored_events,
)

NAME = "Maria Lopez-Garcia"


def preview_of(*texts: str, **slots: str) -> str | None:
    """The preview of a conversation: a greeting reply, these visitor messages, then `slots`."""
    script = Script().session_start()
    for text in texts:
        script.user(text, "inform", 0.9).listen()
    script.slots(**slots)
    return summarise(stored_events(script.events)).preview


def test_the_first_typed_message_is_the_preview() -> None:
    assert summarise(stored_events(booked_conversation())).preview == "hi there"
    assert summarise(stored_events(greeting_conversation())).preview == "hi there"


def test_whitespace_is_collapsed() -> None:
    assert preview_of("  my dad's\n\n  oncologist\tand   GP disagree  ") == (
        "my dad's oncologist and GP disagree"
    )


def test_button_payloads_are_skipped() -> None:
    payloads = ("/greet", '/inform{"scope": "complex"}')
    assert preview_of(*payloads, "   ", "which option fits my mother?") == (
        "which option fits my mother?"
    )


def test_a_conversation_of_buttons_only_has_no_preview() -> None:
    script = Script().session_start()
    script.user("/greet", "greet", 1.0).utter("utter_greet").listen()
    script.user('/inform{"scope": "complex"}', "inform", 1.0).listen()
    assert summarise(stored_events(script.events)).preview is None
    started = Script().session_start()
    assert summarise(stored_events(started.events)).preview is None


def test_a_long_message_is_cut_at_a_word_boundary() -> None:
    text = "my mother has three specialists and " * 8
    preview = preview_of(text)
    assert preview is not None and preview.endswith(ELLIPSIS)
    assert len(preview) <= PREVIEW_LIMIT + 1
    kept = preview[: -len(ELLIPSIS)]
    assert text.startswith(kept) and text[len(kept)] == " "  # whole words only
    assert len(kept) > PREVIEW_LIMIT - len("specialists ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * PREVIEW_LIMIT, "a" * PREVIEW_LIMIT),
        ("a" * (PREVIEW_LIMIT + 1), "a" * PREVIEW_LIMIT + ELLIPSIS),  # no boundary: a hard cut
        ("short " + "b" * 200, "short " + "b" * (PREVIEW_LIMIT - 6) + ELLIPSIS),  # too early
        ("word, " * 30, ("word, " * 20).rstrip(" ,") + ELLIPSIS),  # no dangling punctuation
    ],
)
def test_shorten(text: str, expected: str) -> None:
    assert shorten(text) == expected


def test_contact_details_are_masked_as_the_transcript_masks_them() -> None:
    text = "please call me at 303-555-0142 or write to jo.doe@example.com about my dad"
    preview = preview_of(text)
    assert preview == f"please call me at {MASK} or write to {MASK} about my dad"


def test_names_given_later_in_the_lead_form_are_masked_too() -> None:
    script = greeting(Script(), f"Hi, this is {NAME}; my knee surgery went wrong")
    script.slots(requested_slot="lead_name").utter("utter_ask_lead_name").listen()
    script.user(NAME, "inform", 0.9).slots(lead_name=NAME).listen()
    events = stored_events(script.events)
    preview = summarise(events).preview
    assert preview == f"Hi, this is {MASK}; my knee surgery went wrong"
    masked = mask_transcript(build_transcript(events))  # what the reviewer's transcript shows
    assert preview == masked.visitor_messages()[0].text


def test_masking_comes_before_the_cut() -> None:
    text = "x " * 54 + "call 303 555 0142 any time"  # a cut first would leave "303 555" readable
    preview = preview_of(text)
    assert preview is not None
    assert "303" not in preview and "555" not in preview
