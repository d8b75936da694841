"""Live takeover with two real pages: a visitor in the widget and a navigator in the staff app.

The real Rasa and action servers (two Rasa workers, so the navigator's calls and the visitor's
socket need not meet in one process), the demo site with the widget, and the staff app on the
same database, in one Chromium. The visitor asks for a person; the team on duty gets an email in
the outbox; the navigator joins, they exchange messages both ways; an emergency during the
takeover is answered by the bot's guard and flagged for the navigator; the navigator hands back
and the bot answers again. Screenshots of each step go to artifacts/takeover/ (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from bot.core.settings import Settings
from bot.db.session import dispose_engines, session_scope
from bot.handoff import state
from tests.browser.conftest import WebApp, served
from tests.browser.test_widget import Widget
from tests.support.servers import ROOT, Servers
from tests.support.takeover import PASSWORD, alerts_to, staff_member, team_on_duty

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "takeover"
FEED_MS = 3_000  # messages are pushed to the live page: a visitor message shows within this


@pytest.fixture(scope="module")
def staff_url(servers: Servers) -> Iterator[str]:
    """The staff app on the servers' database, reaching Rasa's HTTP API as in production."""
    from bot.staff.app import create_app

    settings = Settings(
        database_url=servers.database_url,
        environment="test",
        staff_cookie_secure=False,
        rasa_url=servers.rasa_url,
        rasa_api_token=servers.token,
    )
    try:
        with served(create_app(settings), "staff app") as url:
            yield url
    finally:
        dispose_engines()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of this step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, staff_url: str, username: str) -> None:
    """Sign in to the staff app."""
    page.goto(f"{staff_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/conversations$"))


def send_as_staff(page: Page, text: str) -> None:
    """Type a message to the visitor in the live page and send it."""
    form = page.get_by_test_id("message-form")
    form.get_by_label("Message to the visitor").fill(text)
    form.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("chat-item").filter(has_text=text)).to_have_count(1)


def staff_message(visitor: Widget, text: str):
    """The widget's staff message containing `text`, once it arrived."""
    found = visitor.page.locator('[data-testid="message"][data-from="staff"]').filter(has_text=text)
    expect(found).to_have_count(1)
    return found


def test_a_navigator_takes_over_a_widget_chat_and_hands_it_back(
    servers: Servers, web_app: WebApp, staff_url: str, new_page: Callable[..., Page]
) -> None:
    url = servers.database_url
    username = f"maya-{uuid4().hex[:6]}"
    staff_member(url, "navigator", "Maya Patel", username)
    with team_on_duty(url) as emails:
        visitor = Widget(new_page()).load(web_app.url)
        visitor.open()
        visitor.wait_connected()
        visitor.say("Could I talk to a real person, please?")
        visitor.bot_says("navigators on duty")
        conversation = visitor.session_id
        assert {alert.recipient for alert in alerts_to(url, emails)} == set(emails)
        shot(visitor.page, "1-visitor-asks")

        navigator = new_page()
        sign_in(navigator, staff_url, username)
        expect(navigator.get_by_test_id("waiting-count")).to_contain_text(re.compile(r"[1-9]"))
        navigator.goto(f"{staff_url}/handoffs")
        row = navigator.get_by_test_id("handoff-row").filter(has_text=conversation)
        expect(row).to_have_count(1)
        shot(navigator, "2-navigator-sees-the-request")
        row.get_by_role("button", name="Join").click()
        expect(navigator.get_by_test_id("live-state")).to_contain_text("You are in this chat")
        visitor.bot_says("Maya Patel from the Pilot Rock team has joined")

        for text in ("Hi, I'm Maya, one of the nurse navigators.", "What would help most today?"):
            send_as_staff(navigator, text)
            expect(staff_message(visitor, text)).to_contain_text("Maya Patel")
        shot(visitor.page, "3-visitor-sees-the-navigator")

        for text in ("My father has just been diagnosed with myeloma", "We live 500 miles apart"):
            visitor.say(text)
            feed = navigator.get_by_test_id("chat-item").filter(has_text=text)
            expect(feed).to_have_count(1, timeout=FEED_MS)  # no reload: the page script
        expect(visitor.bot).to_have_count(visitor.mark)  # the bot stayed quiet meanwhile
        shot(navigator, "4-navigator-sees-the-visitor")

        visitor.say("I can't do this anymore, I want to end my life")
        visitor.bot_says("988")
        flagged = navigator.get_by_test_id("chat-item").filter(has_text="end my life")
        expect(flagged.get_by_test_id("emergency-flag")).to_be_visible(timeout=FEED_MS)
        shot(navigator, "5-emergency-flagged")

        hand_back = navigator.get_by_test_id("hand-back-form")
        hand_back.get_by_label(re.compile("Note for the team")).fill("988 given; call tomorrow")
        hand_back.get_by_role("button", name=re.compile("Hand back")).click()
        visitor.bot_says("handed the chat back")
        visitor.say("What exactly is a second opinion?")
        visitor.bot_says("second opinion")
        shot(visitor.page, "6-the-bot-answers-again")
    with session_scope(url) as db:
        handoff = state.latest_handoff(db, conversation)
        assert handoff is not None
        assert (handoff.status, handoff.outcome, handoff.staff_messages) == (
            "closed",
            "handed_back",
            2,
        )
        assert handoff.note == "988 given; call tomorrow"
    assert all("call tomorrow" not in text for text in visitor.bot_texts())
    assert Path(ARTIFACTS / "6-the-bot-answers-again.png").is_file()
