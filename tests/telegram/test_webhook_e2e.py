"""End to end: the real Rasa and action servers with the Telegram channel, the fake Bot API.

Updates are POSTed to the server's webhook as Telegram does; the assertions read what the
server sent to the (fake) Bot API.
"""

import time
from typing import Any

import pytest
import requests

from tests.telegram.conftest import SECRET, WEBHOOK_URL, TelegramServers
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import (
    buttons_of,
    callback_update,
    message_update,
    new_chat_id,
    new_group_id,
    other_update,
)

pytestmark = pytest.mark.e2e

SCOPE_BOUNDED = '/inform{"scope": "bounded"}'


def keyboard_with(api: FakeBotApi, chat_id: int, payload: str) -> dict[str, Any]:
    """Wait for an unanswered bot message to the chat whose keyboard offers `payload`."""
    return api.wait_for(
        lambda: next(
            (m for m in api.messages_to(chat_id) if payload in buttons_of(m).values()), None
        )
    )


def message_saying(api: FakeBotApi, chat_id: int, words: str) -> dict[str, Any]:
    """Wait for a bot message to the chat that contains `words`."""
    return api.wait_for(
        lambda: next((m for m in api.messages_to(chat_id) if words in m.get("text", "")), None)
    )


def tap(servers: TelegramServers, chat_id: int, title: str, payload: str) -> dict[str, Any]:
    """Tap a button on the latest keyboard offering `payload`; returns the update sent."""
    sent = keyboard_with(servers.api, chat_id, payload)
    update = callback_update(chat_id, sent, buttons_of(sent)[title])
    assert servers.post(update).status_code == 200
    return update


def user_texts(servers: TelegramServers, sender: str) -> list[str]:
    events = servers.servers.tracker(sender)["events"]
    return [e.get("text") for e in events if e["event"] == "user"]


def test_the_webhook_is_registered_with_the_secret_at_startup(
    telegram_servers: TelegramServers,
) -> None:
    api = telegram_servers.api
    registered = api.wait_for(
        lambda: [c for c in api.calls_of("setWebhook") if c.params.get("url") == WEBHOOK_URL]
    )
    assert registered[0].params["secret_token"] == SECRET
    assert set(registered[0].params["allowed_updates"]) >= {"message", "callback_query"}


def test_start_gives_the_privacy_notice_then_the_greeting_with_buttons(
    telegram_servers: TelegramServers,
) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    assert telegram_servers.post(message_update(chat_id, "/start")).status_code == 200
    entry = keyboard_with(api, chat_id, "/request_assessment")
    texts = [m["text"] for m in api.messages_to(chat_id)]
    assert "Telegram isn't a private place for health details" in texts[0]
    assert any("Pilot Rock assistant" in text for text in texts[1:])
    assert "911" in entry["text"] and "988" in entry["text"]
    assert set(buttons_of(entry)) == {
        "What's the difference?",
        "Help me decide",
        "Book the free call",
    }
    typing = api.calls_of("sendChatAction", chat_id)
    assert typing and typing[0].params["action"] == "typing"
    assert typing[0].at < api.calls_of("sendMessage", chat_id)[1].at  # before the bot's reply


def test_an_assessment_with_buttons_and_free_text_ends_in_a_recommendation(
    telegram_servers: TelegramServers,
) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    telegram_servers.post(message_update(chat_id, "/start"))
    entry = keyboard_with(api, chat_id, "/request_assessment")

    update = tap(telegram_servers, chat_id, "Help me decide", "/request_assessment")
    keyboard_with(api, chat_id, SCOPE_BOUNDED)
    answers = [c.params["callback_query_id"] for c in api.calls_of("answerCallbackQuery")]
    assert update["callback_query"]["id"] in answers
    pressed = next(m for m in api.messages_to(chat_id) if m["message_id"] == entry["message_id"])
    assert "reply_markup" not in pressed  # the keyboard is gone...
    assert pressed["text"].endswith("\n\n\u2713 Help me decide")  # ...and the choice marked

    tap(telegram_servers, chat_id, "Specific question", SCOPE_BOUNDED)
    tap(telegram_servers, chat_id, "Many decisions ahead", '/inform{"decisions": "many"}')
    tap(telegram_servers, chat_id, "Answer a question", '/inform{"need": "answer"}')
    keyboard_with(api, chat_id, '/inform{"support": "alone"}')
    telegram_servers.post(message_update(chat_id, "honestly it's basically just me"))

    recommendation = message_saying(api, chat_id, "journey of decisions")
    assert "on your own" in recommendation["text"]
    keyboard_with(api, chat_id, "/book_call")
    slots = telegram_servers.servers.tracker(str(chat_id))["slots"]
    assert (slots["scope"], slots["decisions"], slots["need"], slots["support"]) == (
        "bounded",
        "many",
        "answer",
        "alone",
    )
    assert slots["recommendation"] == "both"


def test_an_emergency_gets_911_at_once(telegram_servers: TelegramServers) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    text = "my dad just collapsed and he isn't breathing"
    assert telegram_servers.post(message_update(chat_id, text)).status_code == 200
    message_saying(api, chat_id, "911")


def test_a_crisis_in_other_words_gets_988_first_and_carry_on_resumes(
    telegram_servers: TelegramServers,
) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    telegram_servers.post(message_update(chat_id, "help me decide"))
    keyboard_with(api, chat_id, SCOPE_BOUNDED)
    seen = len(api.messages_to(chat_id))
    text = "ive started giving my things away and wrote letters to my kids, i wont be here long"
    assert telegram_servers.post(message_update(chat_id, text)).status_code == 200
    api.wait_for(lambda: len(api.messages_to(chat_id)) > seen or None)
    assert "988" in api.messages_to(chat_id)[seen]["text"]  # the first reply gives the number
    seen = len(api.messages_to(chat_id))
    tap(telegram_servers, chat_id, "We're safe, carry on", "/carry_on")

    def asked_again() -> bool:
        return any(SCOPE_BOUNDED in buttons_of(m).values() for m in api.messages_to(chat_id)[seen:])

    api.wait_for(asked_again)


def test_restart_starts_over(telegram_servers: TelegramServers) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    telegram_servers.post(message_update(chat_id, "help me decide"))
    keyboard_with(api, chat_id, SCOPE_BOUNDED)
    telegram_servers.post(message_update(chat_id, "/restart"))
    message_saying(api, chat_id, "start over")
    keyboard_with(api, chat_id, "/request_assessment")
    tracker = telegram_servers.servers.tracker(str(chat_id))
    assert tracker["slots"]["requested_slot"] is None
    assert not (tracker.get("active_loop") or {}).get("name")


def test_a_group_chat_is_declined_and_nothing_reaches_rasa(
    telegram_servers: TelegramServers,
) -> None:
    api, group = telegram_servers.api, new_group_id()
    update = message_update(group, "hi, can you help my family?", "supergroup")
    assert telegram_servers.post(update).status_code == 200
    message_saying(api, group, "I only chat one-to-one")
    assert user_texts(telegram_servers, str(group)) == []


@pytest.mark.parametrize("secret", [None, "not-the-secret"])
def test_a_wrong_or_missing_secret_is_403(
    telegram_servers: TelegramServers, secret: str | None
) -> None:
    chat_id = new_chat_id()
    reply = telegram_servers.post(message_update(chat_id, "hello"), secret=secret)
    assert reply.status_code == 403
    time.sleep(0.5)
    assert telegram_servers.api.calls_of(chat_id=chat_id, ok_only=False) == []


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"update_id": 1, "message": 5}'])
def test_a_malformed_body_is_400(telegram_servers: TelegramServers, raw: bytes) -> None:
    assert telegram_servers.post(None, raw=raw).status_code == 400


def test_unhandled_updates_are_acknowledged_and_ignored(
    telegram_servers: TelegramServers,
) -> None:
    chat_id = new_chat_id()
    assert telegram_servers.post(other_update("edited_message", chat_id)).status_code == 200
    time.sleep(0.5)
    assert telegram_servers.api.calls_of(chat_id=chat_id, ok_only=False) == []


def test_flood_control_is_honoured(telegram_servers: TelegramServers) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    api.retry_after_once("sendMessage", chat_id, seconds=1)
    telegram_servers.post(message_update(chat_id, "/help"))
    refused, delivered = api.wait_for(
        lambda: (calls := api.calls_of("sendMessage", chat_id, ok_only=False))[1:] and calls
    )
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.at - refused.at >= 0.95
    assert refused.params["text"] == delivered.params["text"]
    assert "What's the difference?" in buttons_of(api.messages_to(chat_id)[0])


def test_the_status_route_says_the_channel_is_on(telegram_servers: TelegramServers) -> None:
    reply = requests.get(f"{telegram_servers.servers.rasa_url}/webhooks/telegram/", timeout=10)
    assert reply.json() == {"status": "ok"}


def test_the_log_has_update_and_chat_ids_but_no_message_text(
    telegram_servers: TelegramServers,
) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    update = message_update(chat_id, "my oncology report from March says stage 3")
    telegram_servers.post(update)
    api.wait_for(lambda: api.calls_of("sendMessage", chat_id))
    log = telegram_servers.log()
    assert f"Telegram update {update['update_id']}: text from chat {chat_id}" in log
    assert "oncology" not in log
    assert telegram_servers.api.token not in log  # httpx logs request URLs: redacted
