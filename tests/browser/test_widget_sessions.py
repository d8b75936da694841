"""The widget's server-issued session and a navigator's messages, in a real Chromium.

The session id and its token come from the server and are kept in the browser's storage; a
navigator's message (sent through Rasa's HTTP API, as the staff app does) shows under the
navigator's name, as text, and stays labelled after a reload.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.test_widget import Widget, user_texts
from tests.support.servers import Servers
from tests.support.takeover import send_staff_message

pytestmark = pytest.mark.browser

GREETING = "isn't for emergencies"
STORAGE_KEY = "pilotrock-chat"


@pytest.fixture
def widget(page: Page, web_app: WebApp) -> Widget:
    """The demo page with the widget loaded (closed), at 1280x800."""
    return Widget(page).load(web_app.url)


def stored(widget: Widget) -> dict:
    """The widget's state in the page's sessionStorage."""
    return json.loads(widget.page.evaluate(f"() => sessionStorage.getItem('{STORAGE_KEY}')"))


def greeted(widget: Widget) -> str:
    """Open the chat, say hi, wait for the greeting; the session id."""
    widget.open()
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says(GREETING)
    widget.settled()
    return widget.session_id


def test_a_navigators_message_shows_their_name_and_survives_a_reload(
    widget: Widget, servers: Servers, artifacts: Path
) -> None:
    session_id = greeted(widget)
    staff = widget.page.locator('[data-testid="message"][data-from="staff"]')
    send_staff_message(servers, session_id, "Hi, I'm Maya. I've read your messages.")
    expect(staff).to_have_count(1)
    check_staff_message(widget, "Maya Patel", "Hi, I'm Maya. I've read your messages.")

    send_staff_message(servers, session_id, "<b>bold?</b>", staff_name="<img src=x> Sam")
    expect(staff).to_have_count(2)
    check_staff_message(widget, "<img src=x> Sam", "<b>bold?</b>")
    expect(widget.log.locator("img, b")).to_have_count(0)  # names and texts stay text
    widget.page.screenshot(path=str(artifacts / "staff-message.png"))

    before = widget.transcript()
    widget.page.reload()
    expect(widget.launcher).to_be_visible()
    widget.open()
    assert widget.transcript() == before
    expect(staff).to_have_count(2)
    check_staff_message(widget, "<img src=x> Sam", "<b>bold?</b>")
    expect(staff.first.locator('[data-testid="sender"]')).to_have_text(
        "Maya Patel · Pilot Rock team"
    )
    assert [m["from"] for m in stored(widget)["messages"]].count("staff") == 2


def check_staff_message(widget: Widget, name: str, text: str) -> None:
    """The newest navigator message: its label, its screen-reader prefix, its text."""
    message = widget.page.locator('[data-testid="message"][data-from="staff"]').last
    expect(message.locator('[data-testid="sender"]')).to_have_text(f"{name} · Pilot Rock team")
    expect(message.locator('[data-testid="sender"]')).to_have_attribute("aria-hidden", "true")
    expect(message.locator(".sr-only")).to_have_text(f"{name}:")
    expect(message.locator(".text")).to_have_text(text)


def test_clearing_asks_the_server_for_a_new_session(widget: Widget, servers: Servers) -> None:
    first = greeted(widget)
    token = stored(widget)["sessionToken"]
    widget.page.locator('button[data-testid="clear"]').click()
    expect(widget.messages).to_have_count(0)
    widget.wait_connected()
    second = widget.session_id
    assert second and second != first
    assert stored(widget)["sessionToken"] not in (None, token)
    widget.say("how much does it cost?")
    widget.bot_says("intro call is free")
    assert user_texts(servers, second) == ["how much does it cost?"]
    assert user_texts(servers, first) == ["hi"]


@pytest.mark.parametrize("token", [None, "not-the-token-of-that-session"])
def test_a_stored_session_without_its_token_gets_a_new_one(
    widget: Widget, servers: Servers, token: str | None
) -> None:
    victim = greeted(widget)
    state = stored(widget) | {"sessionToken": token, "messages": [], "queue": []}
    widget.page.evaluate(
        "([key, value]) => sessionStorage.setItem(key, value)", [STORAGE_KEY, json.dumps(state)]
    )
    widget.page.reload()
    widget.open()
    widget.wait_connected()
    assert widget.session_id != victim
    widget.say("how much does it cost?")
    widget.bot_says("intro call is free")
    assert user_texts(servers, victim) == ["hi"]
    assert stored(widget)["sessionToken"] not in (None, token)
