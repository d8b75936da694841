"""The widget's output channel: a navigator's reply carries their name, ordinary ones do not."""

from typing import Any

import pytest
from rasa.shared.core.events import BotUttered

from bot.rasa.channels.socketio import WidgetOutput, refusal, request_number, staff_fields

HANDOFF = {"handoff": {"kind": "staff_message", "staff_name": "Maya Patel"}}


class Recorder:
    """Stands in for the Socket.IO server: keeps what would be emitted."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, Any]] = []

    async def emit(self, event: str, data: Any = None, room: Any = None, **_: Any) -> None:
        self.emitted.append((event, data, room))


def test_bot_uttered_puts_its_metadata_at_the_top_of_the_message() -> None:
    message = BotUttered("Hi, I'm Maya", metadata=HANDOFF).message()
    assert message["handoff"] == HANDOFF["handoff"] and "metadata" not in message
    assert staff_fields(message) == {"handoff_kind": "staff_message", "staff_name": "Maya Patel"}


def test_a_handoff_under_a_metadata_key_counts_too() -> None:
    assert staff_fields({"text": "hi", "metadata": HANDOFF})["staff_name"] == "Maya Patel"


@pytest.mark.parametrize(
    "message",
    [
        {"text": "hi"},
        {"text": "hi", "utter_action": "utter_greet"},
        {"text": "hi", "handoff": "staff"},
        {"text": "hi", "handoff": {"kind": "other", "staff_name": " "}},
    ],
)
def test_ordinary_replies_get_no_staff_fields(message: dict) -> None:
    assert staff_fields(message) == {}


async def test_a_staff_reply_is_emitted_with_the_name_and_kind() -> None:
    sio = Recorder()
    output = WidgetOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    staff = BotUttered("Hello", metadata=HANDOFF, timestamp=100.5)
    plain = BotUttered("Plain", metadata={"utter_action": "x"}, timestamp=101.0)
    await output.send_response("s1", staff.message())
    await output.send_response("s1", plain.message())
    labels = {"handoff_kind": "staff_message", "staff_name": "Maya Patel"}
    assert sio.emitted == [
        ("bot_uttered", {"text": "Hello", **labels, "timestamp": 100.5, "part": 0}, "s1"),
        ("bot_uttered", {"text": "Plain", "timestamp": 101.0, "part": 0}, "s1"),
    ]


async def test_buttons_of_a_staff_reply_keep_the_name() -> None:
    sio = Recorder()
    message = BotUttered(
        "Pick one", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}, metadata=HANDOFF
    ).message()
    await WidgetOutput(sio, "bot_uttered").send_response("s1", message)  # type: ignore[arg-type]
    (_, data, _), *_ = sio.emitted
    assert data["staff_name"] == "Maya Patel" and data["quick_replies"][0]["title"] == "Yes"


def test_refusals() -> None:
    assert refusal(None, {"message": "hi"}) == "no_session"
    assert refusal("mine", {"message": "hi", "session_id": "theirs"}) == "wrong_session"
    assert refusal("mine", {"message": 42}) == "bad_message"
    assert refusal("mine", {"message": "hi", "session_id": "mine"}) is None
    assert refusal("mine", {"message": "hi"}) is None


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), (0, 0), (-1, None), (True, None), ("3", None), (2**60, None)]
)
def test_request_numbers(value: object, expected: int | None) -> None:
    assert request_number({"request": value}) == expected
