"""Message delivery under faults: retried messages replayed once, failures answered."""

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore, LockError
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.core.settings import get_settings
from bot.rasa.runtime import delivery

DOMAIN = Domain.from_yaml("version: '3.1'\nactions: [action_hello]")


def handled_tracker() -> DialogueStateTracker:
    """A conversation where message m1 got two replies and m2 one."""
    return DialogueStateTracker.from_events(
        "visitor",
        [
            UserUttered("hi", metadata={"message_id": "m1"}),
            BotUttered("Hello!", data={"buttons": [{"title": "Go", "payload": "/go"}]}),
            ActionExecuted("action_listen"),
            BotUttered("How can I help?"),
            UserUttered("help me decide", metadata={"message_id": "m2"}),
            BotUttered("First question."),
        ],
    )


class Processor:
    """The part of Rasa's MessageProcessor that delivery uses, backed by a real tracker store."""

    def __init__(self, store: InMemoryTrackerStore, error: BaseException | None = None) -> None:
        self.tracker_store, self.error, self.handled = store, error, []

    async def handle_message(self, message: UserMessage) -> list | None:
        if self.error is not None:
            await message.output_channel.send_text_message(message.sender_id, "half a reply")
            raise self.error
        self.handled.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "fresh reply")
        return message.output_channel.messages


class Agent:
    """The part of Rasa's Agent that delivery uses."""

    def __init__(self, processor: Processor, lock_store: object = None) -> None:
        self.processor, self.lock_store = processor, lock_store or InMemoryLockStore()

    def is_ready(self) -> bool:
        return True


async def agent_with_history(error: BaseException | None = None) -> Agent:
    store = InMemoryTrackerStore(DOMAIN)
    await store.save(handled_tracker())
    return Agent(Processor(store, error))


def message(text: str, message_id: str | None) -> UserMessage:
    metadata = {"message_id": message_id} if message_id else None
    return UserMessage(text, CollectingOutputChannel(), "visitor", metadata=metadata)


def test_replies_to_finds_every_reply_of_that_message_only() -> None:
    replies = delivery.replies_to(handled_tracker(), "m1")
    assert [r["text"] for r in replies] == ["Hello!", "How can I help?"]
    assert replies[0]["buttons"] == [{"title": "Go", "payload": "/go"}]
    assert [r["text"] for r in delivery.replies_to(handled_tracker(), "m2")] == ["First question."]
    assert delivery.replies_to(handled_tracker(), "m3") is None


async def test_a_retried_message_is_answered_from_the_tracker_not_processed_again() -> None:
    agent = await agent_with_history()
    replies = await delivery.handle_message(agent, message("hi", "m1"))
    assert [r["text"] for r in replies] == ["Hello!", "How can I help?"]
    assert agent.processor.handled == []


async def test_a_new_message_id_or_none_is_processed() -> None:
    agent = await agent_with_history()
    await delivery.handle_message(agent, message("and another", "m9"))
    await delivery.handle_message(agent, message("no id", None))
    await delivery.handle_message(agent, message("bad id", "<script>"))
    assert agent.processor.handled == ["and another", "no id", "bad id"]


@pytest.mark.parametrize(
    "error", [RuntimeError("database away"), delivery.ActionServerUnavailable("action_x")]
)
async def test_a_failed_message_gets_only_the_try_again_reply(error: BaseException) -> None:
    agent = await agent_with_history(error)
    replies = await delivery.handle_message(agent, message("hello", "m5"))
    assert [r["text"] for r in replies] == [delivery.TRY_AGAIN]


async def test_a_lock_store_failure_gets_the_try_again_reply() -> None:
    class DownLockStore(InMemoryLockStore):
        def issue_ticket(self, *_: object, **__: object) -> int:
            raise LockError("redis away")

    agent = await agent_with_history()
    agent.lock_store = DownLockStore()
    replies = await delivery.handle_message(agent, message("hello", "m6"))
    assert [r["text"] for r in replies] == [delivery.TRY_AGAIN]
    assert agent.processor.handled == []


async def test_replies_of_a_message_that_failed_late_never_reach_the_visitor() -> None:
    # The processor had already produced "half a reply" when saving failed: only the notice.
    agent = await agent_with_history(RuntimeError("tracker not saved"))
    replies = await delivery.handle_message(agent, message("hello", "m8"))
    assert "half a reply" not in [r["text"] for r in replies]


async def test_a_replica_still_loading_its_model_asks_to_send_again() -> None:
    agent = await agent_with_history()
    agent.is_ready = lambda: False
    replies = await delivery.handle_message(agent, message("hello", "m10"))
    assert [r["text"] for r in replies] == [delivery.TRY_AGAIN]
    assert agent.processor.handled == []


async def test_cancellation_is_not_swallowed() -> None:
    agent = await agent_with_history(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await delivery.handle_message(agent, message("hello", "m7"))


class FlakyActionServer(BaseHTTPRequestHandler):
    """An action server failing its first `failures` calls with 502, then answering."""

    state = {"failures": 0, "calls": 0}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.state["calls"] += 1
        failing = self.state["calls"] <= self.state["failures"]
        body = b"" if failing else json.dumps({"events": [], "responses": [{"text": "done"}]})
        self.send_response(502 if failing else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode() if isinstance(body, str) else body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def flaky_action_server() -> Iterator[tuple[str, dict]]:
    """The flaky server on a free port, in a thread; yields its URL and call counters."""
    state = {"failures": 0, "calls": 0}
    handler = type("Handler", (FlakyActionServer,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/webhook", state
    server.shutdown()


async def run_action(url: str) -> list:
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    action = RemoteAction("action_hello", EndpointConfig(url))
    tracker = DialogueStateTracker.from_events("visitor", [UserUttered("hi")])
    return await delivery.run_remote_action(
        action, CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN
    )


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Set ACTION_CALL_ATTEMPTS for a test; the settings are read afresh and restored after."""

    def use(value: int) -> None:
        monkeypatch.setenv("ACTION_CALL_ATTEMPTS", str(value))
        get_settings.cache_clear()

    yield use
    monkeypatch.delenv("ACTION_CALL_ATTEMPTS", raising=False)
    get_settings.cache_clear()


async def test_an_action_call_that_fails_on_the_way_is_retried(
    flaky_action_server, attempts
) -> None:
    url, state = flaky_action_server
    attempts(3)
    state["failures"] = 2
    events = await run_action(url)
    assert state["calls"] == 3
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["done"]


async def test_behind_a_retrying_proxy_an_action_call_is_tried_once(
    flaky_action_server, attempts
) -> None:
    url, state = flaky_action_server
    attempts(1)
    state["failures"] = 1
    with pytest.raises(delivery.ActionServerUnavailable):
        await run_action(url)
    assert state["calls"] == 1


def test_the_number_of_attempts_is_bounded(attempts) -> None:
    for wrong in (0, 11):
        attempts(wrong)
        with pytest.raises(ValueError, match="ACTION_CALL_ATTEMPTS"):
            get_settings()


async def test_an_action_server_that_stays_down_fails_the_whole_message(
    flaky_action_server,
) -> None:
    url, state = flaky_action_server
    state["failures"] = 99
    with pytest.raises(delivery.ActionServerUnavailable):
        await run_action(url)
    assert state["calls"] == get_settings().action_call_attempts


async def test_an_unreachable_action_server_fails_the_whole_message() -> None:
    with pytest.raises(delivery.ActionServerUnavailable):
        await run_action("http://127.0.0.1:9/webhook")


def test_only_transport_failures_are_retryable() -> None:
    from rasa.shared.exceptions import RasaException

    def failed(cause: BaseException) -> RasaException:
        error = RasaException("Failed to execute custom action.")
        error.__cause__ = cause
        return error

    assert delivery.retryable(failed(ClientResponseError(503, "Service Unavailable", "")))
    assert not delivery.retryable(failed(ClientResponseError(404, "Not Found", "")))
    assert delivery.retryable(failed(aiohttp.ServerDisconnectedError()))
