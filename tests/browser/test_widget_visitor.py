"""What the visitor sees in the widget, in a real Chromium against the real servers: the keyboard
hint on a touch screen, messages that arrive while the chat is closed, and quick replies that a
newer message has closed.

Console errors and uncaught page errors fail any test (see conftest.py).
"""

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MOBILE, WebApp
from tests.browser.test_widget import QUICK_REPLY, Widget, user_texts
from tests.browser.test_widget_sessions import STORAGE_KEY, greeted, stored
from tests.support.servers import Servers
from tests.support.takeover import send_staff_message

pytestmark = pytest.mark.browser

HINT = "Enter to send"
GREETING_OFFER = "Help me decide"  # one of the quick replies under the greeting


def unread(text: str) -> str:
    """The launcher's accessible name with `text` about the unread messages (after an en dash)."""
    return f"Open chat \N{EN DASH} {text}"


class Parts:
    """The widget's parts these tests look at, beyond `Widget`'s."""

    def __init__(self, page: Page) -> None:
        self.footnote = page.locator('[data-testid="footnote"]')
        self.badge = page.locator('[data-testid="unread-count"]')
        self.announcer = page.locator('[data-testid="announcer"]')
        self.offers = page.locator(QUICK_REPLY)
        self.staff = page.locator('[data-testid="message"][data-from="staff"]')


@pytest.fixture
def widget(page: Page, web_app: WebApp) -> Widget:
    """The demo page with the widget loaded (closed), at 1280x800."""
    return Widget(page).load(web_app.url)


# --- the keyboard hint ----------------------------------------------------------------------------


def test_on_a_touch_screen_enter_is_a_new_line_and_no_hint_says_otherwise(
    new_page: Callable[..., Page], web_app: WebApp, servers: Servers
) -> None:
    page = new_page(viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    assert page.evaluate("() => matchMedia('(pointer: coarse)').matches")
    widget = Widget(page).load(web_app.url)
    parts = Parts(page)
    widget.open()
    widget.wait_connected()
    expect(parts.footnote).to_be_hidden()
    expect(widget.panel.get_by_text(HINT).filter(visible=True)).to_have_count(0)
    expect(widget.input).to_have_attribute("enterkeyhint", "enter")

    widget.input.tap()
    page.keyboard.type("My dad has two specialists.")
    page.keyboard.press("Enter")  # the on-screen keyboard's return key
    page.keyboard.type("They disagree.")
    expect(widget.input).to_have_value("My dad has two specialists.\nThey disagree.")
    expect(widget.user).to_have_count(0)  # nothing sent yet

    widget.mark = widget.bot.count()
    widget.send_button.tap()
    expect(widget.user).to_have_count(1)
    expect(widget.input).to_have_value("")
    widget.settled()
    assert user_texts(servers, widget.session_id) == ["My dad has two specialists.\nThey disagree."]


def test_with_a_keyboard_the_hint_shows_and_enter_sends(widget: Widget, servers: Servers) -> None:
    parts = Parts(widget.page)
    widget.open()
    widget.wait_connected()
    expect(parts.footnote).to_be_visible()
    expect(parts.footnote).to_have_text("Enter to send · Shift+Enter for a new line")
    expect(widget.input).to_have_attribute("enterkeyhint", "send")
    widget.input.focus()
    widget.page.keyboard.type("first line")
    widget.page.keyboard.press("Shift+Enter")
    widget.page.keyboard.type("second line")
    widget.page.keyboard.press("Enter")
    expect(widget.user).to_have_count(1)
    expect(widget.input).to_have_value("")
    widget.settled()
    assert user_texts(servers, widget.session_id) == ["first line\nsecond line"]


# --- messages that arrive while the chat is closed ------------------------------------------------


def test_a_navigators_message_while_closed_is_counted_named_and_announced(
    widget: Widget, servers: Servers
) -> None:
    parts = Parts(widget.page)
    expect(widget.launcher).to_have_accessible_name("Open chat")
    expect(parts.badge).to_be_hidden()
    session_id = greeted(widget)
    widget.close_button.click()
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_have_accessible_name("Open chat")  # read while it was open

    expect(parts.announcer).to_have_attribute("aria-live", "polite")
    expect(parts.announcer).to_have_attribute("role", "status")
    send_staff_message(servers, session_id, "Maya here. I've read your messages.")
    expect(widget.launcher).to_have_accessible_name(unread("1 new message from a navigator"))
    expect(parts.badge).to_be_visible()
    expect(parts.badge).to_have_text("1")
    expect(parts.announcer).to_have_text("Pilot Rock assistant: 1 new message from a navigator")

    send_staff_message(servers, session_id, "Are you still there?")
    expect(widget.launcher).to_have_accessible_name(unread("2 new messages from a navigator"))
    expect(parts.badge).to_have_text("2")
    expect(parts.announcer).to_have_text("Pilot Rock assistant: 2 new messages from a navigator")

    # Still unread after a reload (shown, not announced again).
    widget.page.reload()
    expect(widget.launcher).to_be_visible()
    expect(widget.launcher).to_have_accessible_name(unread("2 new messages from a navigator"))
    expect(parts.badge).to_have_text("2")
    expect(parts.announcer).to_have_text("")

    widget.open()
    expect(parts.staff).to_have_count(2)
    expect(widget.launcher).to_have_accessible_name("Open chat")
    expect(parts.badge).to_be_hidden()
    expect(parts.announcer).to_have_text("")
    assert (stored(widget)["unread"], stored(widget)["unreadStaff"]) == (0, 0)


def test_the_bots_answer_while_closed_is_counted_too(widget: Widget) -> None:
    parts = Parts(widget.page)
    greeted(widget)
    widget.close_button.click()
    expect(widget.panel).to_be_hidden()
    widget.mark = widget.bot.count()
    widget.page.evaluate("() => PilotRockChat.send('how much does it cost?')")
    widget.bot_says("intro call is free")
    widget.settled()
    answers = widget.bot.count() - widget.mark
    plural = "" if answers == 1 else "s"
    name = unread(f"{answers} new message{plural}")
    expect(widget.launcher).to_have_accessible_name(name)
    expect(parts.badge).to_have_text(str(answers))
    expect(parts.announcer).to_contain_text(f"{answers} new message{plural}")
    expect(parts.announcer).not_to_contain_text("navigator")
    widget.open()
    expect(widget.launcher).to_have_accessible_name("Open chat")
    expect(parts.badge).to_be_hidden()


# --- quick replies closed by a newer message ------------------------------------------------------

# Click every quick reply the way a script or an old reference could: the event itself, and the
# button again with its `disabled` attribute taken away.
FORCE_CLICKS_JS = """() => {
  const root = document.getElementById("pilotrock-chat").shadowRoot;
  const buttons = [...root.querySelectorAll('button[data-testid="quick-reply"]')];
  for (const button of buttons) {
    button.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    button.removeAttribute("disabled");
    button.click();
  }
  return buttons.length;
}"""


def expect_all_closed(widget: Widget) -> int:
    """Every quick reply in the log is disabled and says so; how many there are."""
    offers = Parts(widget.page).offers
    total = offers.count()
    assert total > 0
    for index in range(total):
        expect(offers.nth(index)).to_be_disabled()
        expect(offers.nth(index)).to_have_attribute("aria-disabled", "true")
    return total


def test_a_newer_message_closes_the_offer_and_its_buttons_send_nothing(
    widget: Widget, servers: Servers
) -> None:
    parts = Parts(widget.page)
    session_id = greeted(widget)
    offer = widget.page.get_by_role("button", name=GREETING_OFFER, exact=True)
    expect(offer).to_be_enabled()
    expect(offer).not_to_have_attribute("aria-disabled", "true")

    send_staff_message(servers, session_id, "Hi, I'm Maya from the team.")
    expect(parts.staff).to_have_count(1)
    expect_all_closed(widget)
    for index in range(parts.offers.count()):  # closed, not chosen
        expect(parts.offers.nth(index)).to_have_attribute("aria-pressed", "false")

    users = widget.user.count()
    assert widget.page.evaluate(FORCE_CLICKS_JS) > 0
    widget.page.wait_for_timeout(1500)  # time for a message to go out, if one did
    expect(widget.user).to_have_count(users)
    assert user_texts(servers, session_id) == ["hi"]
    assert not stored(widget)["queue"]

    # After a reload the offer is still closed, and still sends nothing.
    widget.page.reload()
    widget.open()
    widget.wait_connected()
    expect_all_closed(widget)
    widget.page.evaluate(FORCE_CLICKS_JS)
    widget.page.wait_for_timeout(1000)
    expect(widget.user).to_have_count(users)
    assert user_texts(servers, session_id) == ["hi"]


def test_a_stored_offer_with_newer_messages_after_it_shows_closed(
    widget: Widget, servers: Servers
) -> None:
    """A transcript saved before offers were closed by newer messages: closed when shown."""
    session_id = greeted(widget)
    send_staff_message(servers, session_id, "Hi, I'm Maya from the team.")
    expect(Parts(widget.page).staff).to_have_count(1)
    state = stored(widget)
    offered = [m for m in state["messages"] if m.get("replies")]
    assert offered and offered[-1] is not state["messages"][-1]
    for message in state["messages"]:
        message.pop("answered", None)
    widget.page.evaluate(
        "([key, value]) => sessionStorage.setItem(key, value)", [STORAGE_KEY, json.dumps(state)]
    )
    widget.page.reload()
    widget.open()
    expect_all_closed(widget)
    assert all(m.get("answered") for m in stored(widget)["messages"] if m.get("replies"))


def test_the_newest_offer_stays_open_until_answered(widget: Widget) -> None:
    """Only older offers close: the newest is open, and typing an answer closes it."""
    greeted(widget)
    offer = widget.page.get_by_role("button", name=GREETING_OFFER, exact=True)
    expect(offer).to_be_enabled()
    widget.say("what's the difference between the two?")
    expect(offer).to_be_disabled()
    expect(offer).to_have_attribute("aria-disabled", "true")
    widget.bot_says("second opinion")
    widget.settled()
    newest = widget.bot.last.locator(QUICK_REPLY)
    if newest.count():
        expect(newest.first).to_be_enabled()
    older = widget.bot.filter(has_text=re.compile("isn't for emergencies")).locator(QUICK_REPLY)
    for index in range(older.count()):
        expect(older.nth(index)).to_be_disabled()
