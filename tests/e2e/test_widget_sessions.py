"""End to end: widget sessions over Socket.IO against the real Rasa server (two Sanic workers).

A session is the browser's alone: the server issues its id with a token, a copied id alone
gets a new session, and a message is handled in its socket's session whatever it names.
A navigator's message sent through the HTTP API reaches the visitor's socket from any worker,
labelled with the navigator's name.
"""

import queue
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from typing import Any, TypeVar

import pytest
import socketio

from bot.rasa.channels.socketio_bus import BUS
from tests.support.servers import Servers
from tests.support.takeover import send_staff_message

pytestmark = pytest.mark.e2e

WAIT = 30.0
MAX_STAFF_MESSAGES = 20
QUIET = 3.0  # how long a visitor must hear nothing to count as "received nothing"
GREETING = "isn't for emergencies"
V = TypeVar("V", bound="Visitor")


class Visitor:
    """A browser tab speaking the widget's protocol (python-socketio's threaded client)."""

    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.replies: queue.Queue[dict] = queue.Queue()
        self.confirms: queue.Queue[dict] = queue.Queue()
        self.requests = 0
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirms.put)
        self.client.connect(
            url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=10
        )

    def session(
        self, session_id: str | None = None, token: str | None = None, **extra: Any
    ) -> dict:
        """Ask for a session (as the widget does on connect) and return the confirmation."""
        self.requests += 1
        request = {"session_id": session_id, "session_token": token, "request": self.requests}
        self.client.emit("session_request", request | extra)
        while True:
            confirm = self.confirms.get(timeout=WAIT)
            if confirm.get("request") == self.requests:
                return confirm

    def say(self, text: str, session_id: str | None = None) -> Any:
        """Send a message; the ack, which comes once the server has handled it."""
        payload = {"message": text, "metadata": {"message_id": uuid.uuid4().hex}}
        if session_id is not None:
            payload["session_id"] = session_id
        return self.client.call("user_uttered", payload, timeout=WAIT)

    def heard(self, quiet: float = QUIET) -> list[dict]:
        """Every reply that arrives until `quiet` seconds pass without one."""
        replies = []
        while True:
            try:
                replies.append(self.replies.get(timeout=quiet))
            except queue.Empty:
                return replies

    def close(self) -> None:
        self.client.disconnect()


def opening(kind: type[V], url: str) -> Iterator[Callable[[], V]]:
    """Opens `kind` visitors on `url`; all are disconnected when the generator is closed."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(closing(kind(url)))


@pytest.fixture
def visitors(servers: Servers) -> Iterator[Callable[[], Visitor]]:
    """Opens visitors on the Rasa server; all are disconnected afterwards."""
    yield from opening(Visitor, servers.rasa_url)


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def user_texts(servers: Servers, session_id: str) -> list[str]:
    return [e.get("text") for e in servers.tracker(session_id)["events"] if e["event"] == "user"]


def test_a_session_is_the_browsers_alone(servers: Servers, visitors: Any) -> None:
    a = visitors()
    mine = a.session()
    a_id, a_token = mine["session_id"], mine["session_token"]
    assert a.say("hi") is None
    assert GREETING in texts(a.heard())

    b = visitors()
    for token in (None, "", a_token[::-1], "x" * 43):
        assert b.session(a_id, token)["session_id"] != a_id  # a copied id alone: a new session
    b_id = b.session()["session_id"]
    assert b_id != a_id

    assert b.say("how much does it cost?", session_id=a_id) == {"error": "wrong_session"}
    assert a.heard() == []
    assert b.say("how much does it cost?") is None
    assert "intro call is free" in texts(b.heard())
    assert a.heard() == []  # none of B's replies reach A

    assert a.say("what's the difference?", session_id=a_id) is None
    assert "second opinion" in texts(a.heard())
    assert b.heard() == []  # none of A's replies reach B

    assert user_texts(servers, a_id) == ["hi", "what's the difference?"]
    assert user_texts(servers, b_id)[-1] == "how much does it cost?"

    a.close()
    again = visitors()
    assert again.session(a_id, a_token) == {
        "session_id": a_id,
        "session_token": a_token,
        "request": 1,
    }
    assert again.say("thanks") is None
    again.heard()
    assert user_texts(servers, a_id) == ["hi", "what's the difference?", "thanks"]


def test_a_socket_without_a_session_is_refused(servers: Servers, visitors: Any) -> None:
    stranger = visitors()
    victim = new_session_id()
    assert stranger.say("hello", session_id=victim) == {"error": "no_session"}
    assert stranger.say("hello") == {"error": "no_session"}
    assert stranger.heard(1.0) == []
    assert user_texts(servers, victim) == []


def test_a_navigators_message_reaches_the_visitor_from_any_worker(
    servers: Servers, visitors: Any
) -> None:
    visitor = visitors()
    session_id = visitor.session()["session_id"]
    visitor.say("hi")
    visitor.heard()
    # A new connection per call: the calls spread over both Sanic workers, until one has had
    # to go through the database bus (the visitor's socket being in the other worker).
    for number in range(MAX_STAFF_MESSAGES):
        send_staff_message(servers, session_id, f"Hello, this is Maya ({number})")
        reply = visitor.replies.get(timeout=WAIT)
        assert reply["text"] == f"Hello, this is Maya ({number})"
        assert reply["staff_name"] == "Maya Patel"
        assert reply["handoff_kind"] == "staff_message"
        if number >= 3 and bus_rows(servers) > 0:
            break
    assert bus_rows(servers) > 0, "every call landed in the visitor's own worker"
    other = visitors()
    other.session()
    send_staff_message(servers, session_id, "Only for the visitor")
    assert visitor.replies.get(timeout=WAIT)["text"] == "Only for the visitor"
    assert other.heard() == []


def test_ordinary_replies_carry_no_staff_fields(visitors: Any) -> None:
    visitor = visitors()
    visitor.session()
    visitor.say("hi")
    replies = visitor.heard()
    assert replies and not [r for r in replies if "staff_name" in r or "handoff_kind" in r]


def bus_rows(servers: Servers) -> int:
    """Messages that went through the database bus between the Rasa workers."""
    path = servers.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (BUS.name,)).fetchone()
        return db.execute(f"SELECT COUNT(*) FROM {BUS.name}").fetchone()[0] if exists else 0


def new_session_id() -> str:
    return uuid.uuid4().hex
