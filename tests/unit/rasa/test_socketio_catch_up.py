"""Catching a rejoining widget up: replies carry their event's time, missed ones are sent again."""

import logging
import math
import time
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.channels import session_tokens
from bot.rasa.channels.socketio import (
    CATCH_UP_LIMIT,
    SocketIOInput,
    WidgetOutput,
    last_seen_of,
    missed,
    time_fields,
)

HANDOFF = {"handoff": {"kind": "staff_message", "staff_name": "Maya Patel"}}
SECRET_TEXT = "my test results came back"
NOW = 1_700_000_000.0


class FakeServer:
    """Stands in for the Socket.IO server: rooms, sessions, and what would be emitted."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, Any]] = []
        self.sessions: dict[str, dict] = {}
        self.rooms: dict[str, set[str]] = {}

    async def emit(self, event: str, data: Any = None, room: Any = None, **kw: Any) -> None:
        self.emitted.append((event, data, kw.get("to", room)))

    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.rooms.setdefault(sid, set()).discard(room)

    async def get_session(self, sid: str, namespace: str | None = None) -> dict:
        return self.sessions.setdefault(sid, {})

    async def save_session(self, sid: str, session: dict, namespace: str | None = None) -> None:
        self.sessions[sid] = session

    def replies(self) -> list[tuple[dict, Any]]:
        return [(data, to) for event, data, to in self.emitted if event == "bot_uttered"]


class BrokenStore:
    """A tracker store whose database is away."""

    async def retrieve(self, _: str) -> None:
        raise ConnectionError(SECRET_TEXT)


def conversation() -> DialogueStateTracker:
    """A visitor's hi, the greeting (two parts, buttons), then a navigator's message."""
    return DialogueStateTracker.from_events(
        "conv",
        [
            UserUttered(SECRET_TEXT, timestamp=NOW),
            BotUttered(
                "Hello!\n\nHow can I help?",
                data={"buttons": [{"title": "Book", "payload": "/book"}]},
                timestamp=NOW + 1,
            ),
            ActionExecuted("action_listen", timestamp=NOW + 2),
            BotUttered("Hi, I'm Maya.", metadata=HANDOFF, timestamp=NOW + 10),
        ],
    )


async def channel(store: object | None = None) -> tuple[SocketIOInput, FakeServer]:
    """The widget's input channel with a fake server, and an agent reading `store`."""
    if store is None:
        store = InMemoryTrackerStore(Domain.empty())
        await store.save(conversation())  # type: ignore[attr-defined]
    sio = FakeServer()
    inp = SocketIOInput(session_persistence=True)
    inp.sio = sio  # type: ignore[assignment]
    await inp.remember_app(
        SimpleNamespace(
            ctx=SimpleNamespace(  # type: ignore[arg-type]
                agent=SimpleNamespace(tracker_store=store)
            )
        )
    )
    return inp, sio


async def test_each_message_of_an_event_carries_its_time_and_part() -> None:
    sio = FakeServer()
    event = conversation().events[1]
    await WidgetOutput(sio, "bot_uttered").send_response("s1", event.message())  # type: ignore[arg-type]
    (first, _), (second, _) = sio.replies()
    assert (first["text"], first["timestamp"], first["part"]) == ("Hello!", NOW + 1, 0)
    assert (second["text"], second["timestamp"], second["part"]) == ("How can I help?", NOW + 1, 1)
    assert second["quick_replies"][0]["title"] == "Book" and "staff_name" not in second


async def test_a_notice_sent_directly_carries_no_time() -> None:
    sio = FakeServer()
    await WidgetOutput(sio, "bot_uttered").send_text_message("s1", "Please send it again")  # type: ignore[arg-type]
    assert sio.replies() == [({"text": "Please send it again"}, "s1")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NOW, {"timestamp": NOW}),
        (12, {"timestamp": 12.0}),
        (0, {"timestamp": 0.0}),
        (None, {}),
        ("12", {}),
        (True, {}),
        (-1.0, {}),
        (math.nan, {}),
        (math.inf, {}),
        (10**400, {}),
    ],
)
def test_time_fields(value: object, expected: dict) -> None:
    assert time_fields({"text": "hi", "timestamp": value}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(NOW, NOW), (int(NOW), NOW), (0, 0.0), (NOW + 30, NOW + 30)],
)
def test_plausible_last_seen(value: object, expected: float) -> None:
    assert last_seen_of({"last_seen": value}, NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "1700000000",
        True,
        -1,
        -0.5,
        math.nan,
        math.inf,
        -math.inf,
        10**400,
        1e300,
        NOW + 3600,
        [NOW],
        {"t": NOW},
    ],
)
def test_bad_last_seen_is_ignored(value: object) -> None:
    assert last_seen_of({"last_seen": value}, NOW) is None
    assert last_seen_of({}, NOW) is None


def test_missed_keeps_the_newest_bot_messages_oldest_first() -> None:
    events = [BotUttered(f"m{n}", timestamp=NOW + n) for n in range(CATCH_UP_LIMIT + 10)]
    events.insert(3, UserUttered("hi", timestamp=NOW + 100))
    chosen = missed(events, NOW + 4)
    assert len(chosen) == CATCH_UP_LIMIT
    assert [e.text for e in chosen] == [f"m{n}" for n in range(10, CATCH_UP_LIMIT + 10)]
    assert [e.text for e in missed(events, NOW + CATCH_UP_LIMIT + 7)] == [
        f"m{CATCH_UP_LIMIT + 8}",
        f"m{CATCH_UP_LIMIT + 9}",
    ]
    assert missed(events, NOW + 1000) == []


async def test_a_rejoining_socket_gets_what_it_missed_as_it_was_sent() -> None:
    inp, sio = await channel()
    await inp.catch_up("sid-1", "conv", NOW + 1)
    assert sio.replies() == [
        (
            {
                "text": "Hi, I'm Maya.",
                "handoff_kind": "staff_message",
                "staff_name": "Maya Patel",
                "timestamp": NOW + 10,
                "part": 0,
            },
            "sid-1",
        )
    ]
    sio.emitted.clear()
    await inp.catch_up("sid-1", "conv", NOW)
    assert [(d["text"], d["part"]) for d, _ in sio.replies()] == [
        ("Hello!", 0),
        ("How can I help?", 1),
        ("Hi, I'm Maya.", 0),
    ]


async def test_the_catch_up_follows_a_confirmed_rejoin_only() -> None:
    inp, sio = await channel()
    token = session_tokens.issue("conv")
    await inp.session_request(
        "sid-1", {"session_id": "conv", "session_token": token, "request": 4, "last_seen": NOW + 5}
    )
    assert [event for event, _, _ in sio.emitted] == ["session_confirm", "bot_uttered"]
    assert sio.emitted[0][1] == {"session_id": "conv", "session_token": token, "request": 4}
    assert [(d["text"], to) for d, to in sio.replies()] == [("Hi, I'm Maya.", "sid-1")]

    for request in (
        {"session_id": "conv", "session_token": None, "last_seen": NOW},
        {"session_id": "conv", "session_token": token[::-1], "last_seen": NOW},
        {"session_id": "conv", "session_token": token},
        {"session_id": "conv", "session_token": token, "last_seen": "0"},
        {"session_id": "conv", "session_token": token, "last_seen": -1},
        {"session_id": "conv", "session_token": token, "last_seen": time.time() + 3600},
        {"session_id": None, "session_token": None, "last_seen": 0},
    ):
        sio.emitted.clear()
        await inp.session_request("sid-2", request)
        assert [event for event, _, _ in sio.emitted] == ["session_confirm"], request


async def test_no_tracker_no_agent_or_no_database_means_no_catch_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    inp, sio = await channel()
    await inp.catch_up("sid-1", "someone-else", 0.0)
    inp.app = None
    await inp.catch_up("sid-1", "conv", 0.0)
    inp, sio = await channel(BrokenStore())
    await inp.catch_up("sid-1", "conv", 0.0)
    assert sio.replies() == []
    assert "ConnectionError" in caplog.text and SECRET_TEXT not in caplog.text


async def test_the_catch_up_logs_no_message_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    inp, sio = await channel()
    await inp.catch_up("sid-1", "conv", 0.0)
    assert len(sio.replies()) == 3
    assert "Maya" not in caplog.text and "Hello" not in caplog.text
    assert SECRET_TEXT not in caplog.text
