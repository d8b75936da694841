"""Button payloads (`/intent{"entity": "value"}`) parsed without running the NLU pipeline.

Rasa runs its whole NLU pipeline on a payload and then lets the final RegexMessageHandler
replace the result with the intent and entities the payload names. For a payload that
handler accepts, the pipeline's work is thrown away, so it is skipped: the parse data is the
handler's result, exactly as the graph would return it. Any other text takes the full pipeline.
"""

from typing import Any

from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message


def parse_payload(
    text: str, domain: Domain, only_output_properties: bool = True
) -> dict[str, Any] | None:
    """What Rasa's NLU graph returns for a valid payload; None for any other text."""
    stripped = (text or "").strip()
    if not stripped.startswith(INTENT_MESSAGE_PREFIX):
        return None
    if not YAMLStoryReader._regex_message_pattern().match(stripped):
        return None  # the graph handles (and warns about) a malformed payload
    unpacked = YAMLStoryReader.unpack_regex_message(
        Message({TEXT: text}), domain, entity_extractor_name=RegexMessageHandler.__name__
    )
    if unpacked.get(INTENT) is None:
        return None  # an intent the domain does not know: the pipeline classifies the text
    parse_data: dict[str, Any] = {
        TEXT: "",
        INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
        ENTITIES: [],
    }
    parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
    return parse_data
