"""Run-time fixes for Rasa 3.6 hot spots, installed by `bot.rasa.runtime.install()` (run-rasa).

- Rasa validates every action-server response with `jsonschema.validate`, which re-checks the
  (constant) schema against its metaschema on every call: about 40% of the server's CPU under
  load. The validator is built once and validates each response exactly as before.
- Rasa resolves each stored event's class by walking every subclass of `Event`, for every event
  of every tracker it loads (about 5% of the CPU). The lookup is cached by type name.
- Button payloads skip the NLU pipeline whose result Rasa would replace
  (`bot.rasa.runtime.payloads`).
- Calls to the action server reuse keep-alive connections (`bot.rasa.runtime.pooled_http`),
  closed when a worker stops by a listener on the Socket.IO channel's blueprint.
"""

from functools import cache, lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot.rasa.runtime.payloads import parse_payload


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


_resolve_uncached = Event.resolve_by_type


@cache
def event_classes() -> dict[str, type[Event]]:
    """Every event class by its type name (the first one wins, as in Rasa's own loop)."""
    classes: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Same contract as Event.resolve_by_type, from a cached table."""
    cls = event_classes().get(type_name)
    return cls if cls is not None else _resolve_uncached(type_name, default)


_parse_with_graph = MessageProcessor._parse_message_with_graph


def parse_message(
    processor: MessageProcessor, message: Any, tracker: Any, only_output_properties: bool = True
) -> dict[str, Any]:
    """Same contract as MessageProcessor._parse_message_with_graph; payloads skip the graph."""
    parsed = parse_payload(message.text, processor.domain, only_output_properties)
    if parsed is not None:
        return parsed
    return _parse_with_graph(processor, message, tracker, only_output_properties)
