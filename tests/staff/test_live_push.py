"""Live pages are pushed: new messages reach an open stream, masked for reviewers, once.

The stream (`GET /conversations/{id}/live/stream`, Server-Sent Events) is read as it flows from
the app served by uvicorn (tests/support/event_streams.py); Rasa is the stand-in of
tests/staff/rasa_stand_in.py, writing the test database's `events` table as Rasa does. The checks
a GET answers whole (permissions, the first frame, refusals) use the TestClient apps of conftest.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from bot.conversations.masking import RunningMask
from bot.core.settings import Settings
from bot.db.staff import StaffUser
from bot.handoff import notices
from bot.staff.accounts import create_user
from bot.staff.app import create_app
from bot.staff.permissions import ROLE_PERMISSIONS, Permission
from bot.staff.push import feed as feed_module
from bot.staff.push.subscribers import PushUnavailableError
from bot.staff.push.tail import EventTail
from bot.staff.sessions import end_user_sessions
from tests.staff.conftest import LIVE_ID, SESSION_COOKIE, Clock, Staff, start_staff_session
from tests.staff.rasa_stand_in import RasaStandIn, visitor_says
from tests.staff.seed import EMAIL, NAME, PASSWORD, PHONE, PHONE_AS_TYPED
from tests.support.conversations import Script, write_conversation
from tests.support.event_streams import EventReader, serve

SignIn = Callable[[str], Staff]
LIVE = f"/conversations/{LIVE_ID}"
STREAM = f"{LIVE}/live/stream"
DELIVERY_SECONDS = 2.0  # the target: a new message shows on an open page within this


@dataclass
class Served:
    """The staff app served by uvicorn, and a way to sign staff in to it."""

    app: Starlette
    url: str
    sign_in: Callable[[str], Staff]


@pytest.fixture
def served(settings: Settings, clock: Clock, db_url: str, rasa: RasaStandIn) -> Iterator[Served]:
    """The staff app on a free port (takeover through the Rasa stand-in); httpx browsers."""
    app = create_app(settings, clock=clock)
    app.state.open_conversation = rasa.open
    clients: list[httpx.Client] = []
    with serve(app, "staff app") as url:

        def sign_in(username: str) -> Staff:
            token, csrf = start_staff_session(db_url, username, clock())
            client = httpx.Client(base_url=url, cookies={SESSION_COOKIE: token}, timeout=10)
            clients.append(client)
            return Staff(client, csrf, username)

        yield Served(app, url, sign_in)
        for client in clients:
            client.close()


def cursor(staff: Staff) -> int:
    """The event id the live page was rendered up to."""
    return int(re.search(r'data-after="(\d+)"', staff.get(f"{LIVE}/live").text).group(1))


def stream_of(staff: Staff, after: int) -> EventReader:
    """The live page's stream of `staff`, from event id `after`."""
    return EventReader(staff.client, f"{STREAM}?after={after}")


def texts_until(stream: EventReader, count: int, timeout: float = 5.0) -> list[str]:
    """The texts of the next `count` chat lines the stream pushes."""
    texts: list[str] = []
    deadline = time.monotonic() + timeout
    while len(texts) < count:
        frame = stream.next("messages", max(deadline - time.monotonic(), 0.01))
        texts += [item["text"] for item in frame.data["items"]]
    return texts


def bot_says(db_url: str, clock: Clock, text: str) -> None:
    """The assistant replies in the live conversation (a `bot` event, as Rasa stores it)."""
    script = Script(clock.now, "socketio")
    write_conversation(db_url, LIVE_ID, script.action("utter_reply").say(text).events)


def test_a_new_message_reaches_an_open_page_within_two_seconds(
    served: Served, live_chat: str, db_url: str, clock: Clock
) -> None:
    navigator = served.sign_in("navigator")
    after = cursor(navigator)
    with stream_of(navigator, after) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        ready = stream.next("ready")
        assert ready.data["items"] == [] and ready.data["cursor"] >= after
        assert ready.data["state"]["key"] == "waiting"

        written = time.monotonic()
        visitor_says(db_url, LIVE_ID, "is anyone there? <b>hello</b>", clock.now)
        frame = stream.next("messages", timeout=DELIVERY_SECONDS)
        assert frame.at - written < DELIVERY_SECONDS
        [item] = frame.data["items"]
        assert (item["from"], item["text"]) == ("visitor", "is anyone there? <b>hello</b>")
        assert frame.data["cursor"] == item["id"] + 1  # the featurization event after it

        written = time.monotonic()
        bot_says(db_url, clock, "A navigator will be with you in a moment.")
        frame = stream.next("messages", timeout=DELIVERY_SECONDS)
        assert frame.at - written < DELIVERY_SECONDS
        assert [(i["from"], i["text"]) for i in frame.data["items"]] == [
            ("bot", "A navigator will be with you in a moment.")
        ]


def test_the_stream_carries_the_takeover_and_its_state(
    served: Served, live_chat: str, db_url: str, clock: Clock
) -> None:
    navigator, admin = served.sign_in("navigator"), served.sign_in("admin")
    after = cursor(navigator)
    with stream_of(navigator, after) as mine, stream_of(admin, after) as theirs:
        mine.next("ready"), theirs.next("ready")
        assert navigator.post(f"{LIVE}/join").status_code == 303
        assert mine.next("state", DELIVERY_SECONDS).data["key"] == "mine"
        assert theirs.next("state", DELIVERY_SECONDS).data == {
            "key": "other",
            "text": "Navigator Person is in this chat: the assistant is paused.",
        }
        assert navigator.post(f"{LIVE}/messages", {"text": "Hi, I'm Jo."}).status_code == 303
        assert texts_until(theirs, 2) == [notices.joined("Navigator Person"), "Hi, I'm Jo."]
        text = "I want to end my life"
        flag = {"entity": "red_flag", "start": 0, "end": len(text), "value": "crisis"}
        visitor_says(db_url, LIVE_ID, text, clock.now, intent="emergency", entities=[flag])
        while (frame := mine.next("messages")).data["items"][-1]["from"] != "visitor":
            pass
        item = frame.data["items"][-1]
        assert item["emergency"] and "988" in item["flag"]
        assert navigator.post(f"{LIVE}/hand-back", {"note": ""}).status_code == 303
        assert mine.next("state", DELIVERY_SECONDS).data["key"] == "none"


def test_a_reviewers_stream_is_masked(
    served: Served, live_chat: str, db_url: str, clock: Clock
) -> None:
    navigator, reviewer = served.sign_in("navigator"), served.sign_in("reviewer")
    navigator.post(f"{LIVE}/join")
    after = cursor(navigator)
    with stream_of(navigator, after) as plain, stream_of(reviewer, after) as masked:
        plain.next("ready"), masked.next("ready")
        navigator.post(f"{LIVE}/messages", {"text": "Shall I call you on 303-555-0199?"})
        visitor_says(db_url, LIVE_ID, "yes, or write to jo.smith@example.com", clock.now)
        assert texts_until(plain, 2) == [
            "Shall I call you on 303-555-0199?",
            "yes, or write to jo.smith@example.com",
        ]
        assert texts_until(masked, 2) == ["Shall I call you on •••?", "yes, or write to •••"]
    for secret in ("303-555-0199", "5550199", "jo.smith", "example.com"):
        assert secret not in masked.raw, secret


def test_the_first_frame_is_masked_with_the_leads_details(signed_in: SignIn) -> None:
    booked = "/conversations/conv-booked/live/stream?after=0"
    reviewer = signed_in("reviewer").get(booked)
    assert reviewer.status_code == 200
    assert reviewer.text.startswith("event: ready\n")
    assert "•••" in reviewer.text
    for secret in (NAME, "Rivera", EMAIL, PHONE, PHONE_AS_TYPED, "5550142"):
        assert secret not in reviewer.text, secret
    assert NAME in signed_in("navigator").get(booked).text
    assert reviewer.text.endswith("event: reconnect\ndata: {}\n\n")  # ended on purpose


def test_each_message_is_masked_once_for_all_reviewer_pages(
    served: Served,
    live_chat: str,
    db_url: str,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    masked: list[int] = []  # the items of each batch masked (one entry per call)
    original = RunningMask.mask

    def counting(self: RunningMask, transcript: Any) -> Any:
        masked.append(len(transcript.items))
        return original(self, transcript)

    monkeypatch.setattr(RunningMask, "mask", counting)
    reviewers = [served.sign_in("reviewer") for _ in range(3)]
    after = cursor(reviewers[0])
    masked.clear()  # the page itself masked the conversation so far
    streams = [stream_of(reviewer, after) for reviewer in reviewers]
    for stream in streams:
        stream.__enter__()
    try:
        for stream in streams:
            stream.next("ready")
        assert len(masked) == 1  # the conversation so far, once, when the first page opened
        visitor_says(db_url, LIVE_ID, "my number is 303 555 0100", clock.now)
        for stream in streams:
            assert texts_until(stream, 1) == ["my number is •••"]
        assert len(masked) == 2  # the new message, once for the three pages
    finally:
        for stream in streams:
            stream.__exit__()


def test_the_stream_needs_what_the_live_page_needs(
    signed_in: SignIn, client: Any, live_chat: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = client.get(STREAM)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=" + STREAM.replace("/", "%2F")
    reviewer = signed_in("reviewer")
    assert reviewer.get(STREAM).status_code == 200
    monkeypatch.setitem(ROLE_PERMISSIONS, "reviewer", frozenset({Permission.REVIEW}))
    refused = reviewer.get(STREAM)
    assert refused.status_code == 403 and "Your role does not allow" in refused.text
    assert "event:" not in refused.text
    navigator = signed_in("navigator")
    assert navigator.get("/conversations/conv-nobody/live/stream").status_code == 404
    bad = navigator.get(STREAM, params={"after": "1; drop"})
    assert bad.status_code == 400 and "after must be an event id" in bad.text


def test_a_deactivated_account_loses_its_stream_at_the_next_reconnect(
    served: Served, live_chat: str, db: Session
) -> None:
    served.app.state.stream_seconds = 1.0
    navigator = served.sign_in("navigator")
    with stream_of(navigator, cursor(navigator)) as stream:
        stream.next("ready")
        user = db.query(StaffUser).filter_by(username="navigator").one()
        end_user_sessions(db, user.id)
        db.commit()
        assert [frame.kind for frame in stream.until_end(3)] == ["reconnect"]
    again = navigator.get(STREAM)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?expired=1")


def test_open_pages_do_not_read_the_events_table_themselves(served: Served, live_chat: str) -> None:
    pages = [served.sign_in(username) for username in ("navigator", "reviewer", "admin")]
    after = cursor(pages[0])
    reads: list[str] = []  # the thread of each statement that reads the events table

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if re.search(r"\bFROM events\b", statement):
            reads.append(threading.current_thread().name)

    streams = [stream_of(page, after) for page in pages]
    for stream in streams:
        stream.__enter__()
        stream.next("ready")
    feed = served.app.state.live_feed
    event.listen(Engine, "before_cursor_execute", record)
    try:
        before = feed.reads
        time.sleep(2.0)
        passes = feed.reads - before
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        for stream in streams:
            stream.__exit__()
    assert set(reads) == {feed_module.THREAD_NAME}  # one reader; no page polls
    assert 2 <= passes <= 2.0 / feed_module.POLL + 2
    assert len(reads) <= 3 * passes  # a read is at most three statements, for any number of pages
    assert wait_for(lambda: feed.figures()["pages"] == 0)  # closed pages are let go


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Whether `condition` holds within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_pages_are_told_when_the_feed_fails_and_can_open_it_again(
    served: Served, live_chat: str, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    navigator = served.sign_in("navigator")
    after = cursor(navigator)

    def failing(*_: Any, **__: Any) -> list[Any]:
        raise OperationalError("SELECT", {}, Exception("database is away"))

    with stream_of(navigator, after) as stream:
        stream.next("ready")
        assert served.app.state.live_feed.figures()["pages"] == 1
        monkeypatch.setattr(EventTail, "read", failing)
        assert [frame.kind for frame in stream.until_end(3)] == ["down"]
    assert served.app.state.live_feed.figures()["pages"] == 0
    monkeypatch.undo()
    with stream_of(navigator, after) as stream:
        stream.next("ready")
        visitor_says(db_url, LIVE_ID, "back again", clock.now)
        assert texts_until(stream, 1, timeout=DELIVERY_SECONDS) == ["back again"]


def test_the_stream_answers_503_while_the_feed_cannot_take_a_page(
    signed_in: SignIn, live_chat: str
) -> None:
    navigator = signed_in("navigator")

    def unavailable(*_: Any) -> Any:
        raise PushUnavailableError("database is away")

    navigator.client.app.state.live_feed.open = unavailable
    response = navigator.get(STREAM)
    assert response.status_code == 503
    assert "checks for new messages instead" in response.text
    assert navigator.get(f"{LIVE}/live.json").status_code == 200  # what the page falls back to


def test_an_erased_conversation_is_let_go(served: Served, live_chat: str, db: Session) -> None:
    create_user(db, username="admin2", display_name="Ada Admin", role="admin", password=PASSWORD)
    db.commit()
    admin, reader = served.sign_in("admin"), served.sign_in("admin2")
    with stream_of(reader, cursor(reader)) as stream:
        stream.next("ready")
        erased = admin.post(f"{LIVE}/erase", {"confirm": "erase"})
        assert erased.status_code == 303
        assert [frame.kind for frame in stream.until_end(3)] == ["reconnect"]
    assert reader.get(STREAM).status_code == 404
