"""Button payloads parsed without the NLU pipeline give exactly what the pipeline gives."""

from collections.abc import Iterator

import pytest
from rasa.core.agent import Agent
from rasa.core.channels import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.runtime import speedups
from bot.rasa.runtime.payloads import parse_payload
from tests.support.servers import MODEL, missing_prerequisites

pytestmark = pytest.mark.model

PAYLOADS = [
    '/inform{"scope": "complex"}',
    '/inform{"support":"alone"}',
    "/request_assessment",
    "/book_call",
    "  /greet  ",
    "/affirm@0.7",
    '/inform{"scope": "complex"} and more',
    '/inform{"not_an_entity": "x"}',
    "/inform{broken",
]
NOT_PAYLOADS = ["hello", "/no_such_intent", "/", "help me / decide", ""]


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    """The trained model, loaded in this process."""
    reason = missing_prerequisites()
    if reason:
        pytest.skip(reason)
    yield Agent.load(str(MODEL))


def graph_parse(agent: Agent, text: str) -> dict:
    """What Rasa's own NLU graph returns for `text`."""
    tracker = DialogueStateTracker.from_events("payload-test", [])
    return speedups._parse_with_graph(agent.processor, UserMessage(text), tracker)


@pytest.mark.parametrize("text", PAYLOADS)
def test_payload_parse_equals_the_pipeline_result(agent: Agent, text: str) -> None:
    fast = parse_payload(text, agent.domain)
    assert fast is not None
    assert fast == graph_parse(agent, text)


@pytest.mark.parametrize("text", NOT_PAYLOADS)
def test_other_text_is_left_to_the_pipeline(agent: Agent, text: str) -> None:
    assert parse_payload(text, agent.domain) is None


def test_patched_processor_uses_the_fast_path_and_falls_back(agent: Agent) -> None:
    tracker = DialogueStateTracker.from_events("payload-test", [])
    payload = speedups.parse_message(agent.processor, UserMessage("/book_call"), tracker)
    assert payload["intent"] == {"name": "book_call", "confidence": 1.0}
    words = speedups.parse_message(agent.processor, UserMessage("how much does it cost?"), tracker)
    assert words == graph_parse(agent, "how much does it cost?")
    assert words["intent"]["name"] != "book_call"
