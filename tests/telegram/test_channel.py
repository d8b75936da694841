"""The webhook channel in this process, against the fake Bot API, with a stand-in for Rasa."""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

from bot.core.settings import get_settings
from bot.rasa.channels.telegram import TelegramInput, command_of
from bot.rasa.channels.telegram_config import SECRET_HEADER, SECRET_PATTERN, TelegramConfig
from bot.rasa.channels.telegram_format import KEY_PREFIX
from bot.rasa.channels.telegram_turns import TURN_PREFIX
from bot.rasa.runtime.lock_store import ProjectLockStore
from tests.telegram.conftest import SECRET, Collector, make_channel
from tests.telegram.fake_bot_api import FakeBotApi, plain
from tests.telegram.updates import (
    buttons_of,
    callback_update,
    message_update,
    new_chat_id,
    new_group_id,
    other_update,
)


def request(body: Any, secret: str | None = SECRET) -> SimpleNamespace:
    """What the handler reads of a Sanic request."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return SimpleNamespace(headers=headers, body=raw, ip="127.0.0.1")


async def deliver(channel: TelegramInput, update: Any, rasa: Collector, **kwargs: Any) -> int:
    """POST one update to the handler and wait for its background work; the status code."""
    reply = await channel.receive(request(update, **kwargs), rasa)
    while channel._tasks:
        await asyncio.gather(*list(channel._tasks))
    return reply.status


def sent_texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [plain(c.params["text"]) for c in api.calls_of("sendMessage", chat_id)]


# ---- the webhook's answers ----


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", "é" * 5])
async def test_wrong_or_missing_secret_is_403(
    channel: TelegramInput, fake_api: FakeBotApi, secret: str | None
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    assert await deliver(channel, message_update(chat_id, "hi"), rasa, secret=secret) == 403
    assert rasa.messages == [] and fake_api.calls_of(chat_id=chat_id, ok_only=False) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"text"',
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "oops"}',
        b'{"update_id": 7, "message": {"text": "hi"}}',
        b"\xff\xfe{",
    ],
)
async def test_malformed_body_is_400(channel: TelegramInput, body: bytes) -> None:
    rasa = Collector()
    assert await deliver(channel, body, rasa) == 400
    assert rasa.messages == []


@pytest.mark.parametrize("kind", ["edited_message", "inline_query", "my_chat_member", "bare"])
async def test_unhandled_update_kinds_are_acknowledged_and_ignored(
    channel: TelegramInput, fake_api: FakeBotApi, kind: str
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    assert await deliver(channel, other_update(kind, chat_id), rasa) == 200
    assert rasa.messages == [] and fake_api.calls_of(chat_id=chat_id) == []


async def test_acknowledges_at_once_while_the_bot_is_slow(
    channel: TelegramInput, fake_api: FakeBotApi
) -> None:
    chat_id, rasa = new_chat_id(), Collector(delay=1.5)
    started = time.monotonic()
    reply = await channel.receive(request(message_update(chat_id, "hello")), rasa)
    assert reply.status == 200 and time.monotonic() - started < 1.0  # the bot takes 1.5 s
    assert len(channel._tasks) == 1  # a reference is kept until the task is done
    while channel._tasks:
        await asyncio.gather(*list(channel._tasks))
    assert rasa.texts == ["hello"]
    assert fake_api.calls_of("sendChatAction", chat_id)[0].params["action"] == "typing"


async def test_one_chat_is_handled_in_order_others_in_parallel(channel: TelegramInput) -> None:
    first, second = new_chat_id(), new_chat_id()
    order: list[str] = []

    async def rasa(message: Any) -> None:
        await asyncio.sleep(0.6 if message.text == "one" else 0.05)
        order.append(f"{message.sender_id}:{message.text}")

    for update in (
        message_update(first, "one"),
        message_update(first, "two"),
        message_update(second, "three"),
    ):
        assert (await channel.receive(request(update), rasa)).status == 200
    while channel._tasks:
        await asyncio.gather(*list(channel._tasks))
    assert order == [f"{second}:three", f"{first}:one", f"{first}:two"]


async def test_a_repeated_update_is_handled_once(channel: TelegramInput) -> None:
    update, rasa = message_update(new_chat_id(), "hello"), Collector()
    assert await deliver(channel, update, rasa) == 200
    assert await deliver(channel, update, rasa) == 200
    assert rasa.texts == ["hello"]


@pytest_asyncio.fixture(loop_scope="function")
async def two_workers(
    config: TelegramConfig, shared_db: str
) -> AsyncIterator[tuple[TelegramInput, TelegramInput]]:
    """The channel as two Rasa processes hold it, sharing one database (ledger and locks)."""
    workers = (make_channel(config, shared_db), make_channel(config, shared_db))
    yield workers
    for worker in workers:
        await worker.close()
        worker.ledger.engine.dispose()


async def settle(*channels: TelegramInput) -> None:
    """Wait for every channel's background work."""
    while any(channel._tasks for channel in channels):
        await asyncio.gather(*[task for channel in channels for task in channel._tasks])


async def test_an_update_delivered_to_two_workers_is_handled_once(two_workers) -> None:
    first, second = two_workers
    update, rasa = message_update(new_chat_id(), "hello"), Collector()
    assert (await first.receive(request(update), rasa)).status == 200
    assert (await second.receive(request(update), rasa)).status == 200
    await settle(first, second)
    assert rasa.texts == ["hello"]


async def test_an_update_kind_not_handled_does_not_hold_up_its_chat(two_workers) -> None:
    first, second = two_workers
    chat_id, rasa = new_chat_id(), Collector()
    ignored = message_update(chat_id, "was edited")
    ignored["edited_message"] = ignored.pop("message")
    assert (await first.receive(request(ignored), rasa)).status == 200
    started = time.monotonic()
    assert (await second.receive(request(message_update(chat_id, "hello")), rasa)).status == 200
    await settle(first, second)
    assert rasa.texts == ["hello"] and time.monotonic() - started < 5


async def test_one_chat_keeps_its_order_across_workers(two_workers) -> None:
    first, second = two_workers
    chat_id, order = new_chat_id(), []

    async def rasa(message: Any) -> None:
        await asyncio.sleep(0.5 if message.text == "one" else 0.01)
        order.append(message.text)

    assert (await first.receive(request(message_update(chat_id, "one")), rasa)).status == 200
    assert (await second.receive(request(message_update(chat_id, "two")), rasa)).status == 200
    await settle(first, second)
    assert order == ["one", "two"]


class Turns:
    """Stands in for Rasa: records each message's start and end, to see any overlap."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, message: Any) -> None:
        self.events.append(f"start {message.text}")
        await asyncio.sleep(0.2 if message.text == "two" else 0.02)
        self.events.append(f"end {message.text}")

    @property
    def texts(self) -> list[str]:
        return [event.split()[1] for event in self.events if event.startswith("start")]

    def one_at_a_time(self) -> bool:
        return all(
            self.events[i] == f"start {text}" and self.events[i + 1] == f"end {text}"
            for i, text in zip(range(0, len(self.events), 2), self.texts, strict=True)
        )


async def test_out_of_order_and_repeated_deliveries_across_workers(two_workers) -> None:
    """Telegram delivers a chat's later update first, then repeats both to the other process:
    each is handled once, in the order accepted, never two at once."""
    first, second = two_workers
    chat_id, rasa = new_chat_id(), Turns()
    one, two = message_update(chat_id, "one"), message_update(chat_id, "two")
    three = message_update(chat_id, "three")
    for worker, update in (
        (first, two),
        (second, one),
        (second, two),
        (first, one),
        (second, three),
        (first, three),
    ):
        assert (await worker.receive(request(update), rasa)).status == 200
    await settle(first, second)
    assert rasa.texts == ["two", "one", "three"]
    assert rasa.one_at_a_time()


async def test_an_update_that_cannot_be_accepted_gets_503_and_its_retry_is_handled(
    config: TelegramConfig, shared_db: str, tmp_path
) -> None:
    """The lock store is away in one process: Telegram is told to retry, and nothing is kept
    that would make the retry look like a repeat."""
    unmigrated = f"sqlite:///{tmp_path / 'no-tables.db'}"
    broken = make_channel(config, shared_db, lock_store=ProjectLockStore(url=unmigrated))
    working = make_channel(config, shared_db)
    update, rasa = message_update(new_chat_id(), "hello"), Collector()
    try:
        assert await deliver(broken, update, rasa) == 503
        assert rasa.messages == []
        assert await deliver(working, update, rasa) == 200
    finally:
        await broken.close()
        await working.close()
    assert rasa.texts == ["hello"]


async def test_a_ledger_that_cannot_record_gets_503_and_leaves_no_turn_behind(
    config: TelegramConfig, shared_db: str, tmp_path
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    unmigrated = f"sqlite:///{tmp_path / 'no-tables.db'}"
    broken = TelegramInput(
        config, database_url=unmigrated, lock_store=ProjectLockStore(url=shared_db)
    )
    try:
        assert await deliver(broken, message_update(chat_id, "hello"), rasa) == 503
    finally:
        await broken.close()
    assert ProjectLockStore(url=shared_db).get_lock(f"{TURN_PREFIX}{chat_id}") is None
    assert rasa.messages == []


async def test_a_turn_held_by_a_dead_process_lets_the_chat_go_on_after_its_lifetime(
    channel: TelegramInput, shared_db: str
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    ProjectLockStore(url=shared_db).issue_ticket(f"{TURN_PREFIX}{chat_id}", 0.5)  # never ended
    started = time.monotonic()
    assert await deliver(channel, message_update(chat_id, "hello"), rasa) == 200
    assert rasa.texts == ["hello"] and 0.5 <= time.monotonic() - started < 5


# ---- what reaches Rasa ----


async def test_text_goes_to_rasa_under_the_chat_id(channel: TelegramInput) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    update = message_update(chat_id, "which one is right for me?")
    await deliver(channel, update, rasa)
    (message,) = rasa.messages
    assert message.text == "which one is right for me?"
    assert message.sender_id == str(chat_id)
    assert message.input_channel == "telegram"
    assert message.metadata == {"telegram": {"update_id": update["update_id"]}}
    assert message.output_channel is channel.output


async def test_start_sends_the_privacy_notice_then_greets(
    channel: TelegramInput, fake_api: FakeBotApi
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    await deliver(channel, message_update(chat_id, "/start"), rasa)
    (notice,) = sent_texts(fake_api, chat_id)
    assert "Telegram isn't a private place for health details" in notice
    assert "website" in notice
    assert rasa.texts == ["/greet"]
    (stored,) = fake_api.messages_to(chat_id)
    assert stored["entities"][0]["type"] == "bold"  # the **bold** part arrived as bold


async def test_start_with_a_deep_link_payload_and_our_username(channel: TelegramInput) -> None:
    rasa = Collector()
    await deliver(channel, message_update(new_chat_id(), "/start@PilotRockTestBot ref-42"), rasa)
    assert rasa.texts == ["/greet"]


async def test_restart_restarts_and_greets(channel: TelegramInput, fake_api: FakeBotApi) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    await deliver(channel, message_update(chat_id, "/restart"), rasa)
    assert sent_texts(fake_api, chat_id) == ["Okay, let's start over."]
    assert rasa.texts == ["/restart", "/greet"]


async def test_help_explains_without_rasa(channel: TelegramInput, fake_api: FakeBotApi) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    await deliver(channel, message_update(chat_id, "/help"), rasa)
    (text,) = sent_texts(fake_api, chat_id)
    assert "second opinion" in text and "/restart" in text and "911" in text
    (stored,) = fake_api.messages_to(chat_id)
    assert set(buttons_of(stored).values()) == {
        "/ask_difference",
        "/request_assessment",
        "/book_call",
    }
    assert rasa.messages == []


@pytest.mark.parametrize("text", ["/book_call", "/inform", "/help@SomeOtherBot"])
async def test_other_commands_never_reach_rasa(
    channel: TelegramInput, fake_api: FakeBotApi, text: str
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    await deliver(channel, message_update(chat_id, text), rasa)
    assert rasa.messages == []
    assert "/help" in sent_texts(fake_api, chat_id)[0]


async def test_non_text_messages_get_a_polite_answer(
    channel: TelegramInput, fake_api: FakeBotApi
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    sticker = {
        "file_id": "s1",
        "file_unique_id": "s1",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    await deliver(channel, message_update(chat_id, sticker=sticker), rasa)
    assert rasa.messages == []
    assert "only read text" in sent_texts(fake_api, chat_id)[0]


@pytest.mark.parametrize("chat_type", ["group", "supergroup", "channel"])
async def test_groups_and_channels_are_declined_once_in_a_while(
    channel: TelegramInput, fake_api: FakeBotApi, chat_type: str
) -> None:
    chat_id, rasa = new_group_id(), Collector()
    await deliver(channel, message_update(chat_id, "hi everyone", chat_type), rasa)
    await deliver(channel, message_update(chat_id, "/start", chat_type), rasa)
    (text,) = sent_texts(fake_api, chat_id)
    assert "I only chat one-to-one" in text and "t.me/PilotRockTestBot" in text
    assert rasa.messages == []


# ---- buttons ----


async def test_a_tapped_button_is_answered_marked_and_sent_to_rasa(
    channel: TelegramInput, fake_api: FakeBotApi
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    long_payload = (
        '/inform{"slot_choice": "2030-01-15T14:30:00+00:00", "lead_timezone": '
        '"America/Argentina/Buenos_Aires"}'
    )
    assert len(long_payload.encode()) > 64
    await channel.output.say(
        chat_id,
        "Which time suits you?",
        [
            {"title": "Tue 9:30", "payload": long_payload},
            {"title": "Later times", "payload": "/inform"},
        ],
    )
    (sent,) = fake_api.messages_to(chat_id)
    data = buttons_of(sent)["Tue 9:30"]
    assert data.startswith(KEY_PREFIX) and len(data.encode()) <= 64

    update = callback_update(chat_id, sent, data)
    assert await deliver(channel, update, rasa) == 200
    assert rasa.texts == [long_payload] and rasa.messages[0].sender_id == str(chat_id)
    (answer,) = fake_api.calls_of("answerCallbackQuery")[-1:]
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    (edited,) = fake_api.messages_to(chat_id)
    assert "reply_markup" not in edited  # the keyboard is gone
    assert edited["text"] == "Which time suits you?\n\n\u2713 Tue 9:30"


async def test_a_button_from_before_a_restart_has_expired(
    config: TelegramConfig, channel: TelegramInput, fake_api: FakeBotApi, shared_db: str
) -> None:
    chat_id, rasa = new_chat_id(), Collector()
    await channel.output.say(chat_id, "Pick", [{"title": "Long", "payload": "/x" + "y" * 80}])
    (sent,) = fake_api.messages_to(chat_id)
    restarted = make_channel(config, shared_db)  # a new process: an empty key map
    try:
        await deliver(restarted, callback_update(chat_id, sent, buttons_of(sent)["Long"]), rasa)
    finally:
        await restarted.close()
    assert rasa.messages == []
    answer = fake_api.calls_of("answerCallbackQuery")[-1]
    assert "expired" in answer.params["text"]


async def test_a_button_in_a_group_is_answered_but_not_used(
    channel: TelegramInput, fake_api: FakeBotApi
) -> None:
    group, rasa = new_group_id(), Collector()
    pressed = {"message_id": 5, "date": 0, "chat": {"id": group, "type": "group", "title": "g"}}
    await deliver(channel, callback_update(group, pressed, "/book_call"), rasa)
    assert rasa.messages == []
    assert "one-to-one" in fake_api.calls_of("answerCallbackQuery")[-1].params["text"]


# ---- failures ----


async def test_a_failing_turn_is_logged_with_ids_only_and_the_channel_goes_on(
    channel: TelegramInput, caplog: pytest.LogCaptureFixture
) -> None:
    chat_id, rasa = new_chat_id(), Collector(fail_on="my secret diagnosis")
    caplog.set_level(logging.INFO, logger="bot.rasa.channels.telegram")
    failing = message_update(chat_id, "my secret diagnosis")
    assert await deliver(channel, failing, rasa) == 200
    assert await deliver(channel, message_update(chat_id, "hello again"), rasa) == 200
    assert rasa.texts == ["my secret diagnosis", "hello again"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info
    assert str(failing["update_id"]) in errors[0].getMessage()
    assert str(chat_id) in errors[0].getMessage()
    assert all("secret diagnosis" not in r.getMessage() for r in caplog.records)


# ---- configuration ----


@pytest.fixture
def no_telegram_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "SECRET_TOKEN", "BASE_URL", "WEBHOOK_URL", "BOT_USERNAME"):
        monkeypatch.setenv(f"TELEGRAM_{name}", "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("no_telegram_env")
def test_without_a_token_the_channel_is_off_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.rasa.channels.telegram")
    channel = TelegramInput.from_credentials(None)
    assert not channel.enabled and channel.get_output_channel() is None
    assert "Telegram channel disabled: TELEGRAM_TOKEN is not set" in caplog.text
    routes = [route.uri for route in channel.blueprint(Collector())._future_routes]
    assert routes == ["/"]


@pytest.mark.usefixtures("no_telegram_env")
def test_credentials_values_win_and_a_bad_secret_disables(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = TelegramInput.from_credentials(
        {"token": "1:abc", "secret_token": "s3cr3t", "bot_username": "@SomeBot"}
    )
    assert channel.enabled and channel.config.bot_username == "SomeBot"
    assert {r.uri for r in channel.blueprint(Collector())._future_routes} == {"/", "/webhook"}
    caplog.set_level(logging.INFO, logger="bot.rasa.channels.telegram")
    broken = TelegramInput.from_credentials({"token": "1:abc", "secret_token": "no spaces!"})
    assert not broken.enabled
    assert "TELEGRAM_SECRET_TOKEN must be" in caplog.text


def test_settings_are_read_when_the_block_is_empty(env_for_fake: dict) -> None:
    channel = TelegramInput.from_credentials(None)
    assert channel.enabled
    assert channel.config.token == env_for_fake["TELEGRAM_TOKEN"]
    assert channel.config.base_url == env_for_fake["TELEGRAM_BASE_URL"]
    assert channel.config.secret == SECRET


def test_without_a_secret_one_is_derived_from_the_token() -> None:
    first = TelegramConfig(token="1:abc").secret
    assert first == TelegramConfig(token="1:abc").secret != TelegramConfig(token="2:abc").secret
    assert SECRET_PATTERN.fullmatch(first)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", "start"),
        ("/Start@PilotRockTestBot x", "start"),
        ("/help@OtherBot", ""),
        ("hello", None),
        ("/", None),
        ("/ hi", None),
        ('/inform{"a": 1}', 'inform{"a":'),
    ],
)
def test_command_parsing(text: str, expected: str | None) -> None:
    assert command_of(text, "PilotRockTestBot") == expected


async def test_a_rejected_token_is_logged_without_the_token(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture, shared_db: str
) -> None:
    wrong = TelegramConfig(token="999:wrong-token", secret_token=SECRET, base_url=fake_api.base_url)
    channel, rasa = make_channel(wrong, shared_db), Collector()
    try:
        assert await deliver(channel, message_update(new_chat_id(), "hello"), rasa) == 200
    finally:
        await channel.close()
    assert rasa.messages == []
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    assert "InvalidToken" in caplog.text and "999:wrong-token" not in caplog.text
