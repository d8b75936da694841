"""Live takeover in a real Chromium: the page script shows new messages, state and waiting count.

The staff app runs with uvicorn in a background thread on its own seeded SQLite database; its
takeover speaks to the Rasa stand-in of tests/staff/rasa_stand_in.py. The script runs under the
app's Content-Security-Policy: any console error (a CSP violation included) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.core.settings import Settings
from bot.db.models import utcnow
from bot.db.session import dispose_engines, session_scope
from bot.db.staff import StaffUser
from bot.handoff import state, takeover
from bot.handoff.conversation import Conversation
from bot.intake.emergency import CRISIS
from tests.browser.conftest import served
from tests.staff.rasa_stand_in import RasaStandIn, visitor_says, waiting_visitor
from tests.staff.seed import PASSWORD, build
from tests.support.servers import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "staff"
LIVE_ID = "conv-live"
COUNT_MS = 16_000  # the badge is refreshed every 10 s


@dataclass
class LiveApp:
    """The running staff app, its database and its Rasa stand-in."""

    url: str
    database_url: str
    rasa: RasaStandIn


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[LiveApp]:
    """`bot.staff.app` on a free port with a visitor waiting for a person."""
    from bot.staff.app import create_app

    seeded = build(f"sqlite:///{tmp_path_factory.mktemp('staff-live') / 'staff.db'}")
    waiting_visitor(seeded.url, LIVE_ID, utcnow())
    rasa = RasaStandIn(seeded.url)
    app = create_app(
        Settings(database_url=seeded.url, environment="test", staff_cookie_secure=False)
    )
    app.state.open_conversation = rasa.open
    try:
        with served(app, "staff app") as url:
            yield LiveApp(url, seeded.url, rasa)
    finally:
        dispose_engines()


def hand_back_elsewhere(app: LiveApp) -> None:
    """An admin hands the chat back from another place (the page must notice)."""
    with session_scope(app.database_url) as db:
        admin = db.scalars(select(StaffUser).where(StaffUser.username == "admin")).one()

        def open_conversation(conversation_id: str) -> Conversation:
            db.commit()  # let go of SQLite's write lock: the stand-in stores events meanwhile
            return app.rasa.open(conversation_id)

        takeover.hand_back(db, open_conversation, LIVE_ID, admin, "", utcnow(), may_override=True)


def test_the_live_page_updates_itself(live_app: LiveApp, staff_page: Page) -> None:
    page = staff_page
    page.goto(f"{live_app.url}/handoffs")
    page.get_by_label("Username").fill("navigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    badge = page.get_by_test_id("waiting-count")
    expect(badge).to_have_text("1 waiting")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_test_id("live-state")).to_contain_text("You are in this chat")
    expect(badge).to_have_text("0 waiting")

    page.get_by_label("Message to the visitor").fill("Hi, I'm here. How can I help?")
    page.get_by_role("button", name="Send").click()
    items = page.get_by_test_id("chat-item")
    expect(items.last).to_contain_text("Hi, I'm here. How can I help?")
    expect(items.last).to_contain_text("Navigator Person")

    page.get_by_label("Message to the visitor").fill("a draft the script must not disturb")
    visitor_says(live_app.database_url, LIVE_ID, "<b>thanks</b>, it's about my mum", utcnow())
    expect(items.last).to_contain_text("<b>thanks</b>, it's about my mum")  # text, not markup
    text = "I don't want to be here anymore"
    flag = {"entity": "red_flag", "start": 0, "end": len(text), "value": CRISIS}
    visitor_says(
        live_app.database_url, LIVE_ID, text, utcnow(), intent="emergency", entities=[flag]
    )
    expect(items.last.get_by_test_id("emergency-flag")).to_contain_text("the assistant sent 988")
    expect(page.get_by_label("Message to the visitor")).to_have_value(
        "a draft the script must not disturb"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live.png"), full_page=True)

    with session_scope(live_app.database_url) as db:
        state.request(db, "conv-human", "socketio", now=utcnow() - timedelta(seconds=5))
    expect(badge).to_have_text("1 waiting", timeout=COUNT_MS)
    hand_back_elsewhere(live_app)
    expect(page.get_by_test_id("live-state")).to_contain_text("Not in a takeover")
    expect(page.get_by_text("The chat has changed")).to_be_visible()
