"""The faster action-response validation keeps Rasa's contract."""

import pytest
from jsonschema import ValidationError

from bot.rasa.runtime import speedups


def test_valid_response_passes() -> None:
    response = {
        "events": [{"event": "slot", "name": "scope", "value": "bounded"}],
        "responses": [{"text": "hello"}],
    }
    assert speedups.validate_action_result(None, response) is True


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"event": "no_such_event"}]},
        {"events": "not a list"},
        {"responses": ["not an object"]},
    ],
)
def test_invalid_response_is_rejected_like_rasa_does(response: dict) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        speedups.validate_action_result(None, response)


def test_cached_event_lookup_matches_rasa_for_every_event_type() -> None:
    """The cached table resolves every type name to the class Rasa's own walk finds."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "session_started"} <= names
    for name in names:
        assert speedups.resolve_event_type(name) is speedups._resolve_uncached(name)


def test_cached_event_lookup_keeps_rasa_errors_and_defaults() -> None:
    """Unknown names still raise, or fall back to the given default."""
    from rasa.shared.core.events import UserUttered

    assert speedups.resolve_event_type("no_such_event", UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        speedups.resolve_event_type("no_such_event")
