"""The website chat widget in a real Chromium against the real Rasa and action servers.

Every test loads the demo page from the web app (`bot.web.app`) whose widget reaches Rasa
through the cuttable proxy, in a fresh browser context with the time zone America/Chicago.
Console errors and uncaught page errors fail any test (see conftest.py).
"""

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.browser.conftest import DESKTOP, MOBILE, TIMEZONE, ConsoleLog, WebApp
from tests.support.assessment import assessment_answers
from tests.support.proxy import TcpProxy
from tests.support.servers import Servers

pytestmark = pytest.mark.browser

BOT_REPLY_MS = 30_000  # a bot turn (NLU, policies, the action server, the database)
RECONNECT_MS = 30_000  # socket.io retries at most every 5 s (plus jitter)
QUICK_REPLY = 'button[data-testid="quick-reply"]'
OPEN_QUICK_REPLY = f"{QUICK_REPLY}:not([disabled])"

# The last bot message in the widget's shadow root that offers an open quick reply titled `title`.
OWNER_INDEX_JS = """(nodes, title) => {
  const offers = (node) => [...node.querySelectorAll('button[data-testid="quick-reply"]')]
    .some((b) => !b.disabled && b.textContent.trim() === title);
  for (let i = nodes.length - 1; i >= 0; i--) if (offers(nodes[i])) return i;
  return -1;
}"""
# The first bot message at or after index `from` whose text contains `text`, or -1.
REPLY_INDEX_JS = """(nodes, [from, text]) => {
  for (let i = from; i < nodes.length; i++) {
    const shown = nodes[i].querySelector(".text");
    if (shown && shown.textContent.includes(text)) return i;
  }
  return -1;
}"""
# The element focused inside the widget's shadow root, described for assertions.
ACTIVE_JS = """() => {
  const root = document.getElementById("pilotrock-chat").shadowRoot;
  const active = root.activeElement;
  const panel = root.querySelector('[data-testid="panel"]');
  if (!active) return {inWidget: false, inPanel: false, testid: null, text: ""};
  return {
    inWidget: true,
    inPanel: panel.contains(active),
    testid: active.getAttribute("data-testid"),
    text: (active.textContent || "").trim(),
  };
}"""


class Widget:
    """The widget's parts, found through its open shadow root by the DOM contract's test ids."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.host = page.locator("div#pilotrock-chat")
        self.launcher = page.locator('button[data-testid="launcher"]')
        self.panel = page.locator('[data-testid="panel"]')
        self.close_button = page.locator('button[data-testid="close"]')
        self.notice = page.locator('[data-testid="notice"]')
        self.log = page.locator('[data-testid="log"]')
        self.messages = page.locator('[data-testid="message"]')
        self.bot = page.locator('[data-testid="message"][data-from="bot"]')
        self.user = page.locator('[data-testid="message"][data-from="user"]')
        self.typing = page.locator('[data-testid="typing"]')
        self.status = page.locator('[data-testid="status"]')
        self.input = page.locator('textarea[data-testid="input"]')
        self.send_button = page.locator('button[data-testid="send"]')
        self.mark = 0  # how many bot messages there were before the visitor's latest action

    def load(self, url: str) -> "Widget":
        self.page.goto(url)
        expect(self.launcher).to_be_visible()
        return self

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def wait_connected(self) -> None:
        self.page.wait_for_function(
            "() => window.PilotRockChat && PilotRockChat.connected", timeout=RECONNECT_MS
        )

    @property
    def session_id(self) -> str:
        return self.page.evaluate("() => window.PilotRockChat.sessionId")

    def say(self, text: str) -> None:
        """Type a message and press the send button; it shows as the visitor's latest."""
        before = self.user.count()
        self.mark = self.bot.count()
        self.input.fill(text)
        self.send_button.click()
        expect(self.user).to_have_count(before + 1)
        expect(self.user.last.locator(".text")).to_have_text(text)
        expect(self.input).to_have_value("")

    def bot_says(self, text: str) -> Locator:
        """Wait for a bot message containing `text` that came after the visitor's latest
        message or choice; returns that message."""
        deadline = time.monotonic() + BOT_REPLY_MS / 1000
        while True:
            index = self.bot.evaluate_all(REPLY_INDEX_JS, [self.mark, text])
            if index >= 0:
                return self.bot.nth(index)
            if time.monotonic() > deadline:
                pytest.fail(f"the bot did not say {text!r}; it said: {self.bot_texts()[-4:]}")
            self.page.wait_for_timeout(100)

    def settled(self) -> None:
        """Wait until no visitor message awaits the bot (the typing indicator is gone)."""
        expect(self.typing).to_be_hidden(timeout=BOT_REPLY_MS)

    def choose(self, title: str) -> None:
        """Click the open quick reply `title` and check that its whole group got disabled."""
        index = self.bot.evaluate_all(OWNER_INDEX_JS, title)
        assert index >= 0, f"no open quick reply {title!r}; bot said: {self.bot_texts()[-3:]}"
        owner = self.bot.nth(index)
        group = owner.locator(QUICK_REPLY)
        size = group.count()
        before = self.user.count()
        self.mark = self.bot.count()
        owner.get_by_role("button", name=title, exact=True).click()
        expect(self.user).to_have_count(before + 1)
        expect(self.user.last.locator(".text")).to_have_text(title)
        expect(group).to_have_count(size)
        for i in range(size):
            expect(group.nth(i)).to_be_disabled()
        expect(owner.get_by_role("button", name=title, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )

    def bot_texts(self) -> list[str]:
        return [t.strip() for t in self.bot.locator(".text").all_text_contents()]

    def transcript(self) -> list[tuple[str, str]]:
        """(from, text) of every message in the log, in order."""
        return [
            (m.get_attribute("data-from") or "", m.locator(".text").text_content() or "")
            for m in self.messages.all()
        ]

    def focus(self) -> dict:
        return self.page.evaluate(ACTIVE_JS)


def user_texts(servers: Servers, session_id: str) -> list[str]:
    """The visitor messages Rasa stored for the conversation, in order."""
    return [e.get("text") for e in servers.tracker(session_id)["events"] if e["event"] == "user"]


@pytest.fixture
def widget(page: Page, web_app: WebApp) -> Widget:
    """The demo page with the widget loaded (closed), at 1280x800."""
    return Widget(page).load(web_app.url)


def test_assessment_to_booked_call_with_quick_replies_and_free_text(
    widget: Widget, servers: Servers, rasa_proxy: TcpProxy
) -> None:
    page = widget.page
    expect(widget.panel).to_be_hidden()
    widget.open()
    expect(widget.input).to_be_focused()
    expect(widget.notice).to_be_visible()
    expect(widget.notice).to_contain_text("911")
    expect(widget.messages).to_have_count(0)  # the notice comes before the first message
    widget.wait_connected()

    widget.say("hi")
    widget.bot_says("isn't for emergencies")
    widget.choose("Help me decide")
    widget.bot_says("specific and bounded")
    widget.choose("Specific question")
    widget.bot_says("one-time decision")
    widget.choose("One-time decision")
    widget.bot_says("navigate the healthcare system")
    widget.choose("Answer a question")
    widget.bot_says("managing this mostly alone")
    widget.say("it's basically just me")  # free text instead of a button
    widget.bot_says("talk it through on a free 15-minute call")
    widget.settled()
    # Typing an answer closes the open quick replies too.
    expect(widget.bot.filter(has_text="mostly alone").last.locator(OPEN_QUICK_REPLY)).to_have_count(
        0
    )
    session_id = widget.session_id
    slots = servers.tracker(session_id)["slots"]
    assert assessment_answers(slots) == ("bounded", "one_time", "answer", "alone")
    assert slots["recommendation"] == "both"

    widget.choose("Book the free call")
    widget.bot_says("What name should our team use")
    widget.say("Maria Lopez")
    widget.bot_says("best way to reach you")
    widget.say("maria.lopez@example.com")
    widget.bot_says("In one line")
    widget.choose("Skip")
    widget.bot_says("May our team contact you")
    widget.choose("Yes, you may")
    offer = widget.bot_says("Which time suits you?")
    times = offer.locator(QUICK_REPLY)
    expect(times.first).to_be_enabled()
    first_time = (times.first.text_content() or "").strip()
    assert re.search(r"\bC[SD]T\b", first_time), f"not shown in Chicago time: {first_time!r}"
    widget.choose(first_time)
    confirmation = widget.bot_says("You're booked")
    widget.settled()

    booking_id = servers.tracker(session_id)["slots"]["booking_id"]
    assert booking_id and booking_id.startswith("PR-")
    expect(confirmation.locator(".text")).to_contain_text(booking_id)
    expect(confirmation.locator(".text")).to_contain_text(first_time)
    expect(page.locator(OPEN_QUICK_REPLY)).to_have_count(0)  # every offer answered

    tracker = servers.tracker(session_id)
    assert tracker["slots"]["lead_timezone"] == TIMEZONE  # from the browser, not asked
    actions = [e.get("name") for e in tracker["events"] if e["event"] == "action"]
    assert "utter_ask_lead_timezone" not in actions
    assert not [t for t in widget.bot_texts() if "time zone" in t.lower()]
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_events[0]["text"] == "hi"
    for event in user_events:
        assert event["metadata"]["timezone"] == TIMEZONE
        assert event["metadata"]["page_url"] == page.url  # the demo page, http://host:port/
        assert event["input_channel"] == "socketio"
    assert rasa_proxy.accepted > 0  # the widget really went through the proxy


def test_reload_restores_the_history_and_the_session(widget: Widget, servers: Servers) -> None:
    widget.open()
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says("isn't for emergencies")
    widget.choose("What's the difference?")
    widget.bot_says("second opinion")
    widget.settled()
    before = widget.transcript()
    session_id = widget.session_id
    offered = widget.page.locator(OPEN_QUICK_REPLY).all_text_contents()
    assert ("user", "What's the difference?") in before and len(before) >= 4
    assert offered, "the answer about the difference offers next steps"

    widget.page.reload()
    expect(widget.launcher).to_be_visible()
    widget.open()
    expect(widget.messages).to_have_count(len(before))
    assert widget.transcript() == before
    assert widget.session_id == session_id
    # The chosen quick reply stays chosen and disabled; the unanswered offer stays open.
    chosen = widget.page.get_by_role("button", name="What's the difference?", exact=True)
    expect(chosen).to_be_disabled()
    expect(chosen).to_have_attribute("aria-pressed", "true")
    assert widget.page.locator(OPEN_QUICK_REPLY).all_text_contents() == offered
    for time_element in widget.messages.locator("time").all():
        assert time_element.get_attribute("datetime")

    # The conversation goes on in the same Rasa conversation.
    widget.wait_connected()
    widget.say("how much does it cost?")
    widget.bot_says("intro call is free")
    assert user_texts(servers, session_id) == ["hi", "/ask_difference", "how much does it cost?"]


def test_message_sent_while_the_network_is_cut_is_delivered_once(
    widget: Widget, servers: Servers, link: TcpProxy, console: ConsoleLog
) -> None:
    page = widget.page
    widget.open()
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says("isn't for emergencies")
    widget.settled()
    session_id = widget.session_id
    bot_before = widget.bot.count()

    console.allow_network_errors_to(link.url)  # Chromium logs the failed reconnects
    link.cut()
    expect(widget.status).to_contain_text("Reconnecting", timeout=RECONNECT_MS)
    assert page.evaluate("() => PilotRockChat.connected") is False

    question = "how much does it cost?"
    widget.say(question)
    time.sleep(3)  # the widget keeps trying; nothing may get through while cut
    assert question not in user_texts(servers, session_id)
    expect(widget.status).to_contain_text("Reconnecting")
    assert widget.bot.count() == bot_before

    link.restore()
    expect(widget.status).not_to_contain_text("Reconnecting", timeout=RECONNECT_MS)
    widget.bot_says("intro call is free")
    widget.settled()
    time.sleep(2)  # room for a duplicate to show up, if one were sent
    assert user_texts(servers, session_id).count(question) == 1
    assert [t for f, t in widget.transcript() if f == "user"].count(question) == 1
    assert len(widget.bot.filter(has_text="intro call is free").all()) == 1
    assert page.evaluate("() => PilotRockChat.connected") is True
    assert link.refused > 0, "the browser never tried to reconnect while the link was cut"


def test_markup_typed_by_the_visitor_is_shown_as_text(widget: Widget, servers: Servers) -> None:
    page = widget.page
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    widget.open()
    widget.wait_connected()
    markup = "<img src=x onerror=alert(1)>"
    widget.say(markup)
    widget.settled()
    assert widget.bot.count() > widget.mark, "the bot answered it"
    text = widget.user.last.locator(".text")
    assert text.text_content() == markup
    expect(widget.log.locator("img")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)
    page.wait_for_timeout(500)
    assert dialogs == []
    assert user_texts(servers, widget.session_id) == [markup]


def test_keyboard_only(widget: Widget) -> None:
    page = widget.page
    for _ in range(40):
        page.keyboard.press("Tab")
        if widget.focus()["testid"] == "launcher":
            break
    expect(widget.launcher).to_be_focused()

    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.wait_connected()

    # Tab and Shift+Tab stay inside the open panel, and come round to the input again.
    seen: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focus = widget.focus()
        assert focus["inPanel"], f"Tab left the panel after {seen}"
        seen.append(focus["testid"] or focus["text"])
    assert seen.count("input") >= 2, f"Tab does not cycle within the panel: {seen}"
    assert {"send", "close", "clear"} <= set(seen)
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        assert widget.focus()["inPanel"]

    for _ in range(12):
        if widget.focus()["testid"] == "input":
            break
        page.keyboard.press("Tab")
    expect(widget.input).to_be_focused()
    widget.mark = widget.bot.count()
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(widget.user.last.locator(".text")).to_have_text("hi")
    widget.bot_says("isn't for emergencies")
    widget.settled()

    for _ in range(20):
        page.keyboard.press("Tab")
        focus = widget.focus()
        if focus["testid"] == "quick-reply" and focus["text"] == "Help me decide":
            break
    else:
        pytest.fail("Tab never reached the 'Help me decide' quick reply")
    widget.mark = widget.bot.count()
    page.keyboard.press("Enter")
    expect(widget.user.last.locator(".text")).to_have_text("Help me decide")
    widget.bot_says("specific and bounded")
    expect(page.get_by_role("button", name="Help me decide", exact=True)).to_be_disabled()

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()


def open_with_a_reply(widget: Widget) -> None:
    widget.open()
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says("isn't for emergencies")
    widget.settled()


def test_desktop_layout_screenshot(widget: Widget, artifacts: Path) -> None:
    open_with_a_reply(widget)
    box = widget.panel.bounding_box()
    assert box is not None
    # A floating panel inside the viewport, not a full-screen sheet.
    assert box["width"] < DESKTOP["width"] / 2
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= DESKTOP["width"]
    assert box["y"] + box["height"] <= DESKTOP["height"]
    path = artifacts / "desktop.png"
    widget.page.screenshot(path=str(path))
    assert path.stat().st_size > 0


def test_mobile_layout_is_full_screen(
    new_page: Callable[..., Page], web_app: WebApp, artifacts: Path
) -> None:
    page = new_page(viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    widget = Widget(page).load(web_app.url)
    open_with_a_reply(widget)
    box = widget.panel.bounding_box()
    assert box is not None
    assert box["x"] <= 0.5 and box["width"] >= MOBILE["width"] - 0.5, box
    assert box["y"] <= 0.5 and box["height"] >= MOBILE["height"] - 0.5, box
    expect(widget.input).to_be_in_viewport()
    expect(widget.send_button).to_be_in_viewport()
    path = artifacts / "mobile.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 0
