"""The faster action-response validation keeps Rasa's contract."""

import pytest
from jsonschema import ValidationError

from bot import speedups


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
