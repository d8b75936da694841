"""The Rasa output channel for Telegram: every Bot API call the channel makes goes through here.

Sends are never allowed to raise into Rasa (a failing send would abort the turn before the
tracker is saved): errors are logged with the chat id and the Bot API method, never with
message text. Flood control (`RetryAfter`) is honoured: the call waits the advised delay and is
retried up to twice.
"""

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from html import escape
from typing import Any, TypeVar

from rasa.core.channels.channel import OutputChannel
from telegram import Bot, InlineKeyboardMarkup, MaybeInaccessibleMessage, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.conversations.speaker import staff_name
from bot.rasa.channels.telegram_format import (
    MAX_MESSAGE,
    CallbackKeys,
    keyboard,
    split_message,
    utf16_len,
)

logger = logging.getLogger("bot.rasa.channels.telegram")
T = TypeVar("T")

MAX_RETRIES = 2  # retries of one call after RetryAfter
MAX_RETRY_DELAY = 60.0  # longer advised waits are not sat out inside a conversation turn
TYPING_INTERVAL = 4.0  # Telegram shows a chat action for 5 seconds
BUTTON_PROMPT = "Please choose:"  # Telegram needs text under a keyboard
PRESSED_MARK = "\u2713"  # ✓


def retry_seconds(error: RetryAfter) -> float:
    """The advised wait of a RetryAfter as seconds (PTB returns int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's deprecation notice about the int form
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def call_api(
    method: str,
    chat_id: int | str | None,
    request: Callable[[], Awaitable[T]],
    *,
    retries: int = MAX_RETRIES,
) -> T:
    """Run one Bot API call, sleeping and retrying when Telegram asks us to slow down."""
    attempt = 0
    while True:
        try:
            return await request()
        except RetryAfter as error:
            delay = retry_seconds(error)
            if attempt >= retries or delay > MAX_RETRY_DELAY:
                raise
            attempt += 1
            logger.warning(
                "Telegram %s for chat %s: flood control, retry %d in %.1fs",
                method,
                chat_id,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)


def log_failure(method: str, chat_id: int | str | None, error: BaseException) -> None:
    """Log a failed Bot API call with its context (no message text)."""
    if isinstance(error, Forbidden):
        logger.warning("Telegram %s for chat %s refused: %s", method, chat_id, error)
    else:
        logger.error("Telegram %s for chat %s failed", method, chat_id, exc_info=error)


class TelegramOutput(OutputChannel):
    """Sends the bot's replies to one Telegram chat per recipient id (the chat id)."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in trackers."""
        return "telegram"

    def __init__(self, bot: Bot, keys: CallbackKeys | None = None) -> None:
        self.bot = bot
        self.keys = keys or CallbackKeys()

    async def _safe(
        self,
        method: str,
        chat_id: int | str | None,
        request: Callable[[], Awaitable[T]],
        *,
        retries: int = MAX_RETRIES,
    ) -> T | None:
        """call_api that logs and swallows every error."""
        try:
            return await call_api(method, chat_id, request, retries=retries)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a failed send must never break the conversation turn
            log_failure(method, chat_id, error)
            return None

    async def send_html(
        self, chat_id: int | str, html: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        """One HTML message (already within the length limit)."""
        return await self._safe(
            "sendMessage",
            chat_id,
            lambda: self.bot.send_message(
                chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup
            ),
        )

    async def say(
        self, chat_id: int | str, text: str, buttons: Sequence[dict[str, Any]] = ()
    ) -> None:
        """The bot's markdown text, split as needed, the keyboard under the last part."""
        parts = split_message(text)
        markup = keyboard(buttons, self.keys) if buttons else None
        if markup and not parts:
            parts = [escape(BUTTON_PROMPT)]
        for number, part in enumerate(parts, start=1):
            await self.send_html(chat_id, part, markup if number == len(parts) else None)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A text reply; a team member's message in a takeover is signed with their name."""
        name = staff_name(kwargs)
        await self.say(recipient_id, f"**{name}, Pilot Rock team:**\n{text}" if name else text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """A text reply with an inline keyboard."""
        await self.say(recipient_id, text, buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies are buttons on Telegram."""
        await self.say(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """An image, as a photo."""
        await self._safe(
            "sendPhoto", recipient_id, lambda: self.bot.send_photo(recipient_id, photo=image)
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Custom payloads are for the website widget; Telegram users never see raw JSON."""
        logger.debug("Telegram chat %s: custom payload not sent", recipient_id)

    async def chat_action(self, chat_id: int | str) -> None:
        """Show 'typing…' (no retries: it is only a hint)."""
        await self._safe(
            "sendChatAction",
            chat_id,
            lambda: self.bot.send_chat_action(chat_id, ChatAction.TYPING),
            retries=0,
        )

    @asynccontextmanager
    async def typing(self, chat_id: int | str) -> AsyncIterator[None]:
        """Show 'typing…' at once (so never after a reply) and keep it up while the body runs."""

        async def keep_typing() -> None:
            while True:
                await asyncio.sleep(TYPING_INTERVAL)
                await self.chat_action(chat_id)

        await self.chat_action(chat_id)
        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def answer_callback(
        self, query_id: str, chat_id: int | str | None, text: str | None = None
    ) -> None:
        """Stop the button's loading spinner (optionally with a short notice)."""
        await self._safe(
            "answerCallbackQuery",
            chat_id,
            lambda: self.bot.answer_callback_query(query_id, text=text),
        )

    async def mark_pressed(self, message: MaybeInaccessibleMessage, data: str) -> None:
        """Remove the keyboard of a tapped message and append "✓ <title>" to its text."""
        if not isinstance(message, Message) or not message.reply_markup:
            return  # older than 48 hours, or already without a keyboard
        chat_id, message_id = message.chat_id, message.message_id
        title = next(
            (
                button.text
                for row in message.reply_markup.inline_keyboard
                for button in row
                if button.callback_data == data
            ),
            None,
        )
        text = message.text
        if title and text and utf16_len(text) + utf16_len(title) + 3 <= MAX_MESSAGE:
            marked = f"{message.text_html}\n\n{PRESSED_MARK} {escape(title, quote=False)}"
            try:
                await call_api(
                    "editMessageText",
                    chat_id,
                    lambda: self.bot.edit_message_text(
                        marked,
                        chat_id=chat_id,
                        message_id=message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=InlineKeyboardMarkup([]),
                    ),
                )
                return
            except asyncio.CancelledError:
                raise
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return  # a quick second tap: already marked
                logger.info("Telegram editMessageText for chat %s: %s", chat_id, error)
            except Exception as error:
                log_failure("editMessageText", chat_id, error)
        await self._safe(
            "editMessageReplyMarkup",
            chat_id,
            lambda: self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            ),
        )
