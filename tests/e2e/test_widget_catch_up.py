"""End to end: a widget that rejoins its session is caught up on what it missed while away.

Every bot message carries its event's server timestamp; a socket rejoining its session with
the token and `last_seen` (the newest timestamp it has shown) gets the bot messages newer than
that, on that socket only. Without the token, or with a `last_seen` that is no clock reading,
nothing is sent again.
"""

import math
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.test_widget_sessions import GREETING, Visitor, opening, texts
from tests.support.servers import Servers
from tests.support.takeover import send_staff_message

pytestmark = pytest.mark.e2e

AWAY = "Maya here: I've booked you for Tuesday, see you then."
BUS_SETTLE = 1.0  # a live emit reaches every worker's sockets within the bus's poll (0.2 s)


class ReturningVisitor(Visitor):
    """A browser tab that also sends `last_seen` when it rejoins, and its own message ids."""

    def rejoin(self, session_id: str | None, token: str | None, last_seen: Any) -> dict:
        """Ask for a session with `last_seen`; the confirmation."""
        return self.session(session_id, token, last_seen=last_seen)

    def send(self, text: str, message_id: str) -> Any:
        """Send a message with this id; the ack."""
        payload = {"message": text, "metadata": {"message_id": message_id}}
        return self.client.call("user_uttered", payload, timeout=30)


@pytest.fixture
def visitors(servers: Servers) -> Iterator[Callable[[], ReturningVisitor]]:
    """Opens visitors on the Rasa server; all are disconnected afterwards."""
    yield from opening(ReturningVisitor, servers.rasa_url)


def greeted(visitors: Any) -> tuple[ReturningVisitor, str, str, float]:
    """A visitor who said hi: the visitor, session id, token and newest timestamp heard."""
    visitor = visitors()
    confirm = visitor.session()
    assert visitor.say("hi") is None
    greeting = visitor.heard()
    assert GREETING in texts(greeting)
    assert all(isinstance(r.get("timestamp"), float) for r in greeting), greeting
    assert all(isinstance(r.get("part"), int) for r in greeting), greeting
    last_seen = max(r["timestamp"] for r in greeting)
    return visitor, confirm["session_id"], confirm["session_token"], last_seen


def stored_time(servers: Servers, session_id: str, text: str) -> float:
    """The server timestamp of the bot event with this text."""
    events = servers.tracker(session_id)["events"]
    (stamp,) = [e["timestamp"] for e in events if e["event"] == "bot" and e.get("text") == text]
    return stamp


def test_a_navigators_message_sent_while_away_is_caught_up_once(
    servers: Servers, visitors: Any
) -> None:
    first, session_id, token, last_seen = greeted(visitors)
    first.close()
    send_staff_message(servers, session_id, AWAY)
    time.sleep(BUS_SETTLE)  # it reached nobody: the visitor's socket is gone

    back = visitors()
    assert back.rejoin(session_id, token, last_seen)["session_id"] == session_id
    (caught,) = back.heard()
    assert caught["text"] == AWAY
    assert caught["staff_name"] == "Maya Patel" and caught["handoff_kind"] == "staff_message"
    assert caught["timestamp"] == stored_time(servers, session_id, AWAY) > last_seen
    assert caught["part"] == 0

    again = visitors()
    assert again.rejoin(session_id, token, caught["timestamp"])["session_id"] == session_id
    assert again.heard() == []  # nothing is newer than what it has shown
    assert back.heard() == []  # the catch-up went to the rejoining socket only

    stranger = visitors()
    assert stranger.rejoin(session_id, None, last_seen)["session_id"] != session_id
    assert stranger.rejoin(session_id, token[::-1], 0)["session_id"] != session_id
    assert stranger.heard() == []  # without the token: a new session, nothing replayed


def test_a_bad_last_seen_is_ignored(servers: Servers, visitors: Any) -> None:
    visitor, session_id, token, _ = greeted(visitors)
    for bad in ("yesterday", -1, 1e300, 10**30, time.time() + 3600, True, [1], math.inf, math.nan):
        assert visitor.rejoin(session_id, token, bad)["session_id"] == session_id, bad
    assert visitor.heard() == []
    visitor.rejoin(session_id, token, 0)  # from the start: the whole conversation again
    assert GREETING in texts(visitor.heard())
    assert visitor.say("how much does it cost?") is None
    assert "intro call is free" in texts(visitor.heard())


def test_replies_to_a_resent_message_keep_their_times(servers: Servers, visitors: Any) -> None:
    visitor = visitors()
    session_id = visitor.session()["session_id"]
    message_id = uuid.uuid4().hex
    assert visitor.send("hi", message_id) is None
    first = visitor.heard()
    assert visitor.send("hi", message_id) is None  # a retry: answered from the tracker
    again = visitor.heard()
    assert first and [(r["text"], r["timestamp"], r["part"]) for r in again] == [
        (r["text"], r["timestamp"], r["part"]) for r in first
    ]
    events = servers.tracker(session_id)["events"]
    assert [e.get("text") for e in events if e["event"] == "user"] == ["hi"]
