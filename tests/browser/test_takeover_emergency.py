"""An emergency while a navigator holds the chat, and the hand-back, as the visitor sees them.

A real Chromium against the real servers; the navigator joins and hands back through
`bot.handoff.takeover`, the calls the staff app makes. The wording comes from the action server
(actions/safety.py, actions/handoff.py), so no retrained model is needed for it.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from bot.intake.emergency import REMINDER
from tests.browser.conftest import WebApp
from tests.browser.test_widget import OPEN_QUICK_REPLY, Widget
from tests.browser.test_widget_sessions import greeted
from tests.support.servers import Servers
from tests.support.takeover import TeamMember

pytestmark = pytest.mark.browser

NAVIGATOR = "Sam Ortiz"
CRISIS = "i've been collecting my sleeping pills for weeks and i think tonight i'll take them all"
# The bot's own flow, wrong while a person holds the chat.
FLOW_WORDS = re.compile(r"\b(paused?|stop|questions?|carry on|pick up|left off|tap)\b", re.I)


@pytest.fixture
def widget(page: Page, web_app: WebApp) -> Widget:
    """The demo page with the widget loaded (closed), at 1280x800."""
    return Widget(page).load(web_app.url)


def test_the_numbers_come_first_and_the_navigator_is_still_there(
    widget: Widget, servers: Servers
) -> None:
    session_id = greeted(widget)
    navigator = TeamMember.new(servers, NAVIGATOR)
    widget.mark = widget.bot.count()
    navigator.join(session_id)
    widget.bot_says(f"{NAVIGATOR} from the Pilot Rock team has joined")
    assert servers.tracker(session_id)["paused"]

    widget.say(CRISIS)
    widget.bot_says(f"{NAVIGATOR} from the Pilot Rock team is still here with you")
    widget.settled()
    reply = widget.bot_texts()[widget.mark :]
    assert "988" in reply[0] and "?" not in reply[0], reply  # the number first, no question
    assert not [text for text in reply if FLOW_WORDS.search(text)], reply
    expect(widget.page.locator(OPEN_QUICK_REPLY)).to_have_count(0)  # no "carry on" offered
    assert servers.tracker(session_id)["paused"]  # the navigator still holds the chat

    widget.mark = widget.bot.count()
    navigator.hand_back(session_id, note="988 given")
    widget.bot_says("handed the chat back")
    widget.bot_says("free 15-minute intro call")
    widget.settled()
    after = widget.bot_texts()[widget.mark :]
    assert REMINDER in after, after  # the numbers again, as the conversation had them
    assert not [text for text in after if "next step" in text], after
    assert not [text for text in after if "988 given" in text]  # the note stays with staff
    book = widget.page.get_by_role("button", name="Book the free call", exact=True).last
    expect(book).to_be_enabled()
