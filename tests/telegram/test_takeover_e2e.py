"""End to end on Telegram: a visitor asks for a person, a navigator joins, chats, hands back.

The real Rasa and action servers with the Telegram channel aimed at the fake Bot API; the team's
side goes through `bot.handoff.takeover`, the same calls the staff app makes, against Rasa's
HTTP API. What the visitor receives is read from the fake Bot API.
"""

import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.core.settings import Settings
from bot.db.handoffs import Handoff
from bot.db.session import session_scope
from bot.handoff import state, watcher
from bot.rasa.events import events_after
from tests.support.takeover import TeamMember, alerts_to, team_on_duty
from tests.telegram.conftest import TelegramServers
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.test_webhook_e2e import keyboard_with, message_saying
from tests.telegram.updates import message_update, new_chat_id

pytestmark = pytest.mark.e2e


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(timezone.utc)


def texts_since(api: FakeBotApi, chat_id: int, seen: int) -> list[str]:
    """Texts the bot sent to the chat after the first `seen` messages."""
    return [m.get("text", "") for m in api.messages_to(chat_id)[seen:]]


def visitor_says(servers: TelegramServers, chat_id: int, text: str) -> None:
    """Send one visitor message through the webhook."""
    assert servers.post(message_update(chat_id, text)).status_code == 200


def stored_user_texts(database_url: str, conversation_id: str) -> list[str]:
    """Visitor texts as the staff live view reads them (the events table)."""
    with session_scope(database_url) as db:
        events = events_after(db, conversation_id, 0, limit=1000)
    return [e.data.get("text", "") for e in events if e.type_name == "user"]


def test_a_navigator_takes_over_a_telegram_chat_and_hands_it_back(
    telegram_servers: TelegramServers,
) -> None:
    api, servers = telegram_servers.api, telegram_servers.servers
    chat_id, url = new_chat_id(), servers.database_url
    conversation = str(chat_id)
    with team_on_duty(url) as emails:
        visitor_says(telegram_servers, chat_id, "can I please talk to a real person")
        message_saying(api, chat_id, "navigators on duty")
        assert {alert.recipient for alert in alerts_to(url, emails)} == set(emails)

        maya = TeamMember.new(servers, "Maya Patel")
        maya.join(conversation)
        message_saying(api, chat_id, "Maya Patel from the Pilot Rock team has joined")

        for text in ("Hello, I'm Maya, a nurse navigator.", "What's worrying you most today?"):
            maya.send(conversation, text)
            sent = message_saying(api, chat_id, text)
            assert sent["text"].startswith("Maya Patel, Pilot Rock team:")

        seen = len(api.messages_to(chat_id))
        for text in ("my mum has a new lymphoma diagnosis", "we don't know which hospital to pick"):
            visitor_says(telegram_servers, chat_id, text)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(stored_user_texts(url, conversation)) < 3:
            time.sleep(0.2)
        assert stored_user_texts(url, conversation)[-2:] == [
            "my mum has a new lymphoma diagnosis",
            "we don't know which hospital to pick",
        ]
        time.sleep(1.5)
        assert texts_since(api, chat_id, seen) == []  # the bot stays quiet while Maya is there

        visitor_says(telegram_servers, chat_id, "honestly I just want to kill myself")
        crisis = message_saying(api, chat_id, "988")
        assert crisis["message_id"] > api.messages_to(chat_id)[seen - 1]["message_id"]

        maya.hand_back(conversation, "talked through hospital choice")
        message_saying(api, chat_id, "handed the chat back")
        keyboard_with(api, chat_id, "/book_call")
        assert all("hospital choice" not in text for text in texts_since(api, chat_id, 0))

        seen = len(api.messages_to(chat_id))
        visitor_says(telegram_servers, chat_id, "what is a second opinion exactly?")
        api.wait_for(lambda: texts_since(api, chat_id, seen))
        reply = " ".join(texts_since(api, chat_id, seen)).lower()
        assert "second opinion" in reply and "988" not in reply  # answered, not the crisis again
    with session_scope(url) as db:
        handoff = state.latest_handoff(db, conversation)
        assert handoff is not None
        assert (handoff.status, handoff.outcome, handoff.staff_messages) == (
            "closed",
            "handed_back",
            2,
        )
        assert handoff.note == "talked through hospital choice"


def test_a_claimed_telegram_chat_without_replies_falls_back_to_a_call_back(
    telegram_servers: TelegramServers,
) -> None:
    api, servers = telegram_servers.api, telegram_servers.servers
    chat_id, url = new_chat_id(), servers.database_url
    conversation = str(chat_id)
    with team_on_duty(url):
        visitor_says(telegram_servers, chat_id, "I need to speak to a human now")
        message_saying(api, chat_id, "navigators on duty")
        sam = TeamMember.new(servers, "Sam Ortiz")
        sam.join(conversation)
        message_saying(api, chat_id, "Sam Ortiz from the Pilot Rock team has joined")

        settings = Settings(handoff_reply_minutes=5, handoff_claim_minutes=5)
        later = utcnow() + timedelta(minutes=6)
        sessions = lambda: session_scope(url)  # noqa: E731
        assert watcher.apply_limits(sessions, sam.open_conversation, later, settings) == 1
        message_saying(api, chat_id, "had to step away")
        keyboard_with(api, chat_id, "/book_call")
        visitor_says(telegram_servers, chat_id, "what does the intro call involve?")
        message_saying(api, chat_id, "15")
    with session_scope(url) as db:
        handoff = db.query(Handoff).filter_by(conversation_id=conversation).one()
        assert (handoff.status, handoff.outcome) == ("closed", "no_reply")
