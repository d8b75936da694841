"""Run-time fix for a Rasa 3.6 hot spot, applied by `python -m bot run-rasa`.

Rasa 3.6 validates every action-server response with `jsonschema.validate`, which re-checks
the (constant) schema against its metaschema on every call: about 40% of the server's CPU under
load. This builds the validator once and validates each response exactly as before.
"""

from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """The action-response validator, with its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_: RemoteAction, result: dict[str, Any]) -> bool:
    """Same contract as RemoteAction._validate_action_result, without re-checking the schema."""
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Install the faster response validation."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
