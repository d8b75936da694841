"""A navigator's message sent while the widget was offline, in a real Chromium.

The widget keeps the newest server timestamp it has shown and sends it when it rejoins its
session; the server sends again what came after it. A message it has shown already is ignored,
whoever sends it again.
"""

import json
import time

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.browser.conftest import ConsoleLog, WebApp
from tests.browser.test_widget import RECONNECT_MS, Widget
from tests.browser.test_widget_sessions import STORAGE_KEY, check_staff_message, greeted, stored
from tests.support.proxy import TcpProxy
from tests.support.servers import Servers
from tests.support.takeover import send_staff_message

pytestmark = pytest.mark.browser

AWAY = "Maya here: I called the clinic, they can see you on Tuesday."


@pytest.fixture
def widget(page: Page, web_app: WebApp) -> Widget:
    """The demo page with the widget loaded (closed), at 1280x800."""
    return Widget(page).load(web_app.url)


def count_frames_with(page: Page, text: str) -> list[int]:
    """A counter, kept up to date, of the WebSocket frames the page receives containing `text`."""
    counter = [0]

    def watch(socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            counter[0] += isinstance(payload, str) and text in payload

        socket.on("framereceived", received)

    page.on("websocket", watch)
    return counter


def test_a_message_sent_while_offline_shows_once_when_back(
    widget: Widget, servers: Servers, link: TcpProxy, console: ConsoleLog
) -> None:
    session_id = greeted(widget)
    staff = widget.page.locator('[data-testid="message"][data-from="staff"]')
    shown = stored(widget)["lastSeen"]
    assert isinstance(shown, int | float)
    frames = count_frames_with(widget.page, json.dumps(AWAY)[1:-1])

    console.allow_network_errors_to(link.url)  # Chromium logs the failed reconnects
    link.cut()
    expect(widget.status).to_contain_text("Reconnecting", timeout=RECONNECT_MS)
    send_staff_message(servers, session_id, AWAY)
    time.sleep(1)
    expect(staff).to_have_count(0)

    link.restore()
    expect(widget.status).not_to_contain_text("Reconnecting", timeout=RECONNECT_MS)
    expect(staff).to_have_count(1)
    check_staff_message(widget, "Maya Patel", AWAY)
    time.sleep(2)  # room for a second copy to show up, if one were shown
    expect(staff).to_have_count(1)
    assert frames[0] == 1
    events = servers.tracker(session_id)["events"]
    (stamp,) = [e["timestamp"] for e in events if e["event"] == "bot" and e.get("text") == AWAY]
    assert stored(widget)["lastSeen"] == stamp > shown

    # Told it has seen less than it has, the widget gets the message again and ignores it.
    before = widget.transcript()
    state = stored(widget) | {"lastSeen": shown}
    widget.page.evaluate(
        "([key, value]) => sessionStorage.setItem(key, value)", [STORAGE_KEY, json.dumps(state)]
    )
    widget.page.reload()
    widget.open()
    widget.wait_connected()
    deadline = time.monotonic() + 10
    while frames[0] < 2 and time.monotonic() < deadline:
        widget.page.wait_for_timeout(100)
    assert frames[0] == 2, "the server did not send the message again"
    widget.page.wait_for_timeout(500)
    assert widget.transcript() == before
    expect(staff).to_have_count(1)
    assert stored(widget)["lastSeen"] == stamp
