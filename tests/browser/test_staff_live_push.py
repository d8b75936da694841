"""The live page in a real Chromium: new messages are pushed, and polled only while that is down.

The staff app runs with uvicorn in a background thread on its own seeded SQLite database (as in
test_staff_live.py). The page script follows the page's stream (Server-Sent Events) under the
app's Content-Security-Policy; every request the page makes is recorded, so the tests can tell
that live.json is asked only while the stream is down.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect
from starlette.applications import Starlette

from bot.core.settings import Settings
from bot.db.models import utcnow
from bot.db.session import dispose_engines
from bot.staff.push.feed import LiveFeed
from tests.browser.conftest import served
from tests.staff.rasa_stand_in import RasaStandIn, visitor_says, waiting_visitor
from tests.staff.seed import PASSWORD, build

pytestmark = pytest.mark.browser

LIVE_ID = "conv-push"
PUSH_MS = 2_000  # the target: a new message shows on an open page within this
RECONNECT_MS = 20_000  # the page retries the stream after 2 s, then 4 s, 8 s...


@dataclass
class PushApp:
    """The running staff app and its database."""

    app: Starlette
    url: str
    database_url: str


@dataclass
class Requests:
    """The addresses a page asked for, in order."""

    urls: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def polls(self) -> int:
        """How many times the page asked live.json."""
        return sum("/live.json" in url for url in self.urls)


@pytest.fixture(scope="module")
def push_app(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[PushApp]:
    """`bot.staff.app` on a free port with a visitor waiting for a person."""
    from bot.staff.app import create_app

    seeded = build(f"sqlite:///{tmp_path_factory.mktemp('staff-push') / 'staff.db'}")
    waiting_visitor(seeded.url, LIVE_ID, utcnow())
    app = create_app(
        Settings(database_url=seeded.url, environment="test", staff_cookie_secure=False)
    )
    app.state.open_conversation = RasaStandIn(seeded.url).open
    try:
        with served(app, "staff app") as url:
            yield PushApp(app, url, seeded.url)
    finally:
        app.state.live_feed.stop()
        dispose_engines()


def open_live_page(page: Page, push_app: PushApp) -> Requests:
    """Sign in as the navigator and open the live page; the requests the page makes."""
    requests = Requests()
    page.on("request", requests.record)
    page.goto(f"{push_app.url}/conversations/{LIVE_ID}/live")
    page.get_by_label("Username").fill("navigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("live-state")).to_contain_text("Waiting for a navigator")
    return requests


def test_new_messages_are_pushed_without_polling(push_app: PushApp, staff_page: Page) -> None:
    page = staff_page
    requests = open_live_page(page, push_app)
    live = page.locator("#live")
    expect(live).to_have_attribute("data-push", "up")
    expect(page.get_by_test_id("live-push")).to_be_hidden()
    items = page.get_by_test_id("chat-item")

    for text in ("<b>hello?</b> is anyone there", "my mum's appointment is on Monday"):
        visitor_says(push_app.database_url, LIVE_ID, text, utcnow())
        expect(items.last).to_have_text(re.compile(re.escape(text)), timeout=PUSH_MS)
    expect(items.last.locator("b")).to_have_count(0)  # text, never markup
    page.wait_for_timeout(1_500)
    assert requests.polls() == 0, requests.urls
    assert sum("/live/stream" in url for url in requests.urls) == 1


def test_the_page_polls_while_the_stream_is_down(push_app: PushApp, staff_page: Page) -> None:
    page = staff_page
    requests = open_live_page(page, push_app)
    live, status = page.locator("#live"), page.get_by_test_id("live-push")
    expect(live).to_have_attribute("data-push", "up")

    working = push_app.app.state.live_feed
    refusing = LiveFeed(push_app.database_url)
    refusing.stop()  # a feed that takes no page: every stream is answered 503
    push_app.app.state.live_feed = refusing
    working.stop()  # ends the open stream
    expect(live).to_have_attribute("data-push", "down")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Reconnecting")
    visitor_says(push_app.database_url, LIVE_ID, "are you still there?", utcnow())
    items = page.get_by_test_id("chat-item")
    expect(items.last).to_contain_text("are you still there?", timeout=PUSH_MS + 1_000)
    assert requests.polls() >= 1

    push_app.app.state.live_feed = LiveFeed(push_app.database_url)
    expect(live).to_have_attribute("data-push", "up", timeout=RECONNECT_MS)
    expect(status).to_be_hidden()
    polled = requests.polls()
    visitor_says(push_app.database_url, LIVE_ID, "thanks for waiting", utcnow())
    expect(items.last).to_contain_text("thanks for waiting", timeout=PUSH_MS)
    page.wait_for_timeout(1_500)
    assert requests.polls() == polled  # polling stopped with the stream back
