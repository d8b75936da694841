"""The output channel against the fake Bot API: splitting, HTML, keyboards, flood control."""

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Message
from telegram.request import HTTPXRequest

from bot.rasa.channels.telegram_config import POOL_SIZE, TelegramConfig
from bot.rasa.channels.telegram_format import MAX_MESSAGE, utf16_len
from bot.rasa.channels.telegram_output import TelegramOutput
from tests.telegram.fake_bot_api import FakeBotApi, plain
from tests.telegram.updates import buttons_of, new_chat_id


@pytest_asyncio.fixture(loop_scope="function")
async def output(config: TelegramConfig) -> AsyncIterator[TelegramOutput]:
    async with config.make_bot() as bot:
        yield TelegramOutput(bot)


def test_the_http_pool_is_sized_for_concurrency(config: TelegramConfig) -> None:
    bot = config.make_bot()
    assert isinstance(bot.request, HTTPXRequest)
    assert bot.request._client_kwargs["limits"].max_connections == POOL_SIZE >= 32
    assert bot.request._client_kwargs["timeout"].pool >= 5.0


async def test_a_5000_character_reply_goes_as_two_messages(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    paragraphs = [f"Paragraph {n}: " + "Some careful words here. " * 40 for n in range(5)]
    text = "\n\n".join(paragraphs)
    assert 4096 < len(text) <= 5200
    await output.send_response(
        chat_id,
        {"text": text, "buttons": [{"title": "Book the free call", "payload": "/book_call"}]},
    )
    calls = fake_api.calls_of("sendMessage", chat_id)
    assert len(calls) == 2
    texts = [plain(call.params["text"]) for call in calls]
    assert all(utf16_len(part) <= MAX_MESSAGE for part in texts)
    assert texts[0].endswith(".") and texts[1].startswith("Paragraph")  # on a boundary
    assert " ".join(" ".join(texts).split()) == " ".join(text.split())
    assert "reply_markup" not in calls[0].params  # the keyboard sits under the last part
    assert buttons_of(fake_api.messages_to(chat_id)[-1]) == {"Book the free call": "/book_call"}


async def test_bold_and_special_characters_arrive_as_telegram_shows_them(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    await output.send_text_message(chat_id, "**Free** call <15 min> & no cost **")
    (stored,) = fake_api.messages_to(chat_id)  # the fake refuses HTML Telegram would refuse
    assert stored["text"] == "Free call <15 min> & no cost **"
    assert stored["entities"] == [{"type": "bold", "offset": 0, "length": 4}]


async def test_buttons_become_an_inline_keyboard_within_64_bytes(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    long_payload = '/inform{"lead_timezone": "America/Argentina/Buenos_Aires", "x": "yz"}'
    await output.send_text_with_buttons(
        chat_id,
        "First: specific or complex?",
        [
            {"title": "Specific question", "payload": '/inform{"scope": "bounded"}'},
            {"title": "Buenos Aires", "payload": long_payload},
            {"title": "Our website", "url": "https://pilotrock.example"},
        ],
    )
    (stored,) = fake_api.messages_to(chat_id)
    rows = stored["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1, 1]
    assert rows[0][0]["callback_data"] == '/inform{"scope": "bounded"}'
    assert output.keys.decode(rows[1][0]["callback_data"]) == long_payload
    assert rows[2][0]["url"] == "https://pilotrock.example"


async def test_buttons_without_text_still_get_a_prompt(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    await output.send_quick_replies(chat_id, "", [{"title": "Yes", "payload": "/affirm"}])
    (stored,) = fake_api.messages_to(chat_id)
    assert stored["text"] == "Please choose:" and buttons_of(stored) == {"Yes": "/affirm"}


async def test_images_go_as_photos(output: TelegramOutput, fake_api: FakeBotApi) -> None:
    chat_id = new_chat_id()
    await output.send_response(chat_id, {"image": "https://pilotrock.example/team.png"})
    (call,) = fake_api.calls_of("sendPhoto", chat_id)
    assert call.params["photo"] == "https://pilotrock.example/team.png"


async def test_custom_json_is_not_shown_to_telegram_users(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    await output.send_response(chat_id, {"custom": {"widget": "calendar"}})
    assert fake_api.calls_of(chat_id=chat_id) == []


async def test_typing_shows_while_the_bot_works(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    async with output.typing(chat_id):
        await output.send_text_message(chat_id, "done")
    (action,) = fake_api.calls_of("sendChatAction", chat_id)
    assert action.params["action"] == "typing"


async def test_retry_after_is_honoured(output: TelegramOutput, fake_api: FakeBotApi) -> None:
    chat_id = new_chat_id()
    fake_api.retry_after_once("sendMessage", chat_id, seconds=1)
    await output.send_text_message(chat_id, "Hello after a pause")
    refused, delivered = fake_api.calls_of("sendMessage", chat_id, ok_only=False)
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.at - refused.at >= 0.95
    assert [m["text"] for m in fake_api.messages_to(chat_id)] == ["Hello after a pause"]


async def test_persistent_flood_control_gives_up_and_logs(
    output: TelegramOutput, fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    chat_id = new_chat_id()
    for _ in range(3):
        fake_api.retry_after_once("sendMessage", chat_id, seconds=1)
    await output.send_text_message(chat_id, "private words")  # must not raise
    assert len(fake_api.calls_of("sendMessage", chat_id, ok_only=False)) == 3  # 1 + 2 retries
    assert f"sendMessage for chat {chat_id} failed" in caplog.text
    assert "private words" not in caplog.text


async def test_a_blocked_bot_is_a_warning_not_a_crash(
    output: TelegramOutput, fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    chat_id = new_chat_id()
    fake_api.fail_next("sendMessage", chat_id, 403, "Forbidden: bot was blocked by the user")
    caplog.set_level(logging.WARNING, logger="bot.rasa.channels.telegram")
    await output.send_text_message(chat_id, "hello")
    (record,) = [r for r in caplog.records if str(chat_id) in r.getMessage()]
    assert record.levelno == logging.WARNING and "blocked" in record.getMessage()


async def test_a_keyboard_that_cannot_be_marked_is_still_removed(
    output: TelegramOutput, fake_api: FakeBotApi
) -> None:
    chat_id = new_chat_id()
    await output.say(chat_id, "Pick one", [{"title": "A", "payload": "/a"}])
    (stored,) = fake_api.messages_to(chat_id)
    fake_api.fail_next("editMessageText", chat_id, 400, "Bad Request: message can't be edited")
    await output.mark_pressed(Message.de_json(stored, output.bot), "/a")
    (after,) = fake_api.messages_to(chat_id)
    assert "reply_markup" not in after and after["text"] == "Pick one"
    assert len(fake_api.calls_of("editMessageReplyMarkup", chat_id)) == 1


async def test_the_token_never_reaches_the_logs(
    output: TelegramOutput, fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat_id = new_chat_id()
    fake_api.fail_next("sendMessage", chat_id, 500, f"Internal error near {fake_api.token}")
    await output.send_text_message(chat_id, "hello")
    assert "HTTP Request: POST" in caplog.text  # httpx logs every URL, token included...
    assert "/bot<token>/sendMessage" in caplog.text
    assert fake_api.token not in caplog.text  # ...but never the token itself
