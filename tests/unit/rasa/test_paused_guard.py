"""While a navigator holds a chat (Rasa paused), only /restart and red flags get a reply."""

from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    Event,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.runtime.patches import PATCHES
from bot.rasa.runtime.paused import should_handle_message

CRISIS = {
    "entity": "red_flag",
    "value": "crisis",
    "start": 0,
    "end": 21,
    "extractor": "MessageGuard",
}


def user(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> UserUttered:
    """A visitor message with its NLU result, as Rasa's processor logs it."""
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
    }
    return UserUttered(
        text, parse_data["intent"], entities or [], parse_data, input_channel="socketio"
    )


def tracker(*events: Event) -> DialogueStateTracker:
    """A real tracker built from `events`, in order."""
    return DialogueStateTracker.from_events("visitor-1", list(events))


def test_a_live_conversation_is_handled() -> None:
    """Not paused: every message is handled."""
    live = tracker(ActionExecuted("action_listen"), user("what do you cost?", "ask_cost"))
    assert not live.is_paused()
    assert should_handle_message(live) is True


def test_a_paused_conversation_ignores_an_ordinary_message() -> None:
    """Paused by a navigator's takeover: the bot stays quiet."""
    paused = tracker(
        ActionExecuted("action_listen"),
        ConversationPaused(),
        user("thanks, that helps", "thank"),
    )
    assert paused.is_paused()
    assert should_handle_message(paused) is False


def test_a_paused_conversation_answers_a_red_flagged_message() -> None:
    """The guard's red_flag entity gets the safety reply, whoever is in the chat."""
    paused = tracker(
        ActionExecuted("action_listen"),
        ConversationPaused(),
        user("i want to end my life", "emergency", [CRISIS]),
    )
    assert paused.is_paused()
    assert should_handle_message(paused) is True


def test_a_red_flag_on_an_earlier_message_does_not_count() -> None:
    """Only the latest message decides: an old flag does not reopen the bot."""
    paused = tracker(
        user("i want to end my life", "emergency", [CRISIS]),
        ConversationPaused(),
        user("i'm safe now, thank you", "thank"),
    )
    assert should_handle_message(paused) is False


def test_a_paused_conversation_handles_restart() -> None:
    """/restart is always handled, as in Rasa itself."""
    paused = tracker(ConversationPaused(), user("/restart", "restart"))
    assert should_handle_message(paused) is True


def test_paused_with_no_visitor_message_is_not_handled() -> None:
    """Paused before the visitor wrote anything: nothing to answer."""
    assert should_handle_message(tracker(ConversationPaused())) is False


def test_resumed_conversation_is_handled_again() -> None:
    """After the hand-back (resume) ordinary messages are answered again."""
    resumed = tracker(
        ConversationPaused(),
        user("thanks", "thank"),
        ConversationResumed(),
        user("can I book a call?", "book_call"),
    )
    assert should_handle_message(resumed) is True


def test_the_guard_replaces_rasas_own_check() -> None:
    """bot.rasa.runtime.install() puts this function in place of Rasa's processor check."""
    (patch,) = [p for p in PATCHES if p.target == "MessageProcessor._should_handle_message"]
    assert patch.exists()
    assert patch.new_value().__func__ is should_handle_message
