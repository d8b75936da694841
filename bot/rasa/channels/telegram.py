"""Telegram as a Rasa input channel (webhook), on python-telegram-bot.

Enable it in credentials.yml with an empty block, `bot.rasa.channels.telegram.TelegramInput:`; the
token and the rest come from the settings (TELEGRAM_TOKEN, ...). Without a token the channel
stays off and says so in the log: `rasa run` is never broken by it.

Telegram POSTs each update to `/webhooks/telegram/webhook` with the secret token in the
`X-Telegram-Bot-Api-Secret-Token` header. The handler checks the secret (403), parses the update
(400 when malformed) and accepts it: a turn on the chat's lock in Rasa's lock store
(`telegram_turns`) and a row in the database ledger (`telegram_ledger`), which takes each update
id once, whichever Rasa process receives it. Then it answers 200 at once and handles the update
in a background task when its turn comes: a chat's updates in the order they were accepted, one
at a time, in every process together. When an update cannot be accepted (database or lock store
away) the answer is 503 and Telegram sends the update again. Only private chats reach Rasa,
under the chat id.

The ledger and the lock store block (database, Redis): their calls run in worker threads, so
while the handler and the background work wait for them, or for a chat's turn, every other
conversation of the process goes on. An accepted update is always handled, even if the request
that brought it is cancelled meanwhile (`bot.rasa.runtime.threads.in_thread`). The Bot API
client and the ledger, slow to make, are made in a thread too, before the worker serves.
"""

import asyncio
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.lock_store import LockError, LockStore
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, CallbackQuery, Chat, Message, Update
from telegram.constants import ChatType

from bot.rasa.channels.telegram_config import (
    POOL_SIZE,
    SECRET_HEADER,
    TelegramConfig,
)
from bot.rasa.channels.telegram_format import CallbackKeys
from bot.rasa.channels.telegram_ledger import UpdateLedger
from bot.rasa.channels.telegram_output import TelegramOutput
from bot.rasa.channels.telegram_turns import Turn, end_turn, take_turn, wait_for
from bot.rasa.runtime.threads import ArrivalOrder, in_thread

logger = logging.getLogger("bot.rasa.channels.telegram")

DECLINE_COOLDOWN = 600.0  # seconds between two "one-to-one only" notices in one group
SHUTDOWN_GRACE = 10.0  # seconds to let running updates finish when the server stops

PRIVACY_NOTICE = (
    "Welcome! One thing before we start: **Telegram isn't a private place for health "
    "details.** Please don't share diagnoses, test results or other personal medical "
    "information here. If you'd like to talk about your situation in detail, use the chat on "
    "our website, or book the free 15-minute call and speak with our team directly."
)
HELP_TEXT = (
    "I'm the Pilot Rock assistant. I can:\n"
    "• explain how a second opinion differs from ongoing medical navigation,\n"
    "• help you decide which fits you, with four short questions,\n"
    "• tell you about the free 15-minute intro call, and book it for you.\n\n"
    "Commands: /start to begin, /restart to start over, /help for this message.\n\n"
    "I can't give medical advice. In an emergency call 911; for a mental-health crisis call or "
    "text 988. Telegram isn't a private place for health details: for anything personal, please "
    "use the chat on our website."
)
HELP_BUTTONS = [
    {"title": "What's the difference?", "payload": "/ask_difference"},
    {"title": "Help me decide", "payload": "/request_assessment"},
    {"title": "Book the free call", "payload": "/book_call"},
]
RESTARTING = "Okay, let's start over."
DECLINE = (
    "Hi! I only chat one-to-one, so I can't help in groups or channels. "
    "Please message me directly{link}."
)
DECLINE_SHORT = "I only chat one-to-one. Please message me directly."
NOT_TEXT = (
    "Sorry, I can only read text messages. Please don't send photos, files or voice notes "
    "with health details here."
)
UNKNOWN_COMMAND = "Sorry, I don't know that command. Try /help to see what I can do."
EXPIRED_BUTTON = "This button has expired. Please type your answer instead."

# Telegram command -> the user messages Rasa gets (after the channel's own notice, if any).
START_MESSAGES = ("/greet",)
RESTART_MESSAGES = ("/restart", "/greet")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def command_of(text: str, bot_username: str = "") -> str | None:
    """'/start', '/start@PilotRockBot payload' -> 'start'; None for a text that is no command.

    Any text that starts with '/' and a word counts as a command, so typed intents such as
    '/book_call' never bypass the NLU on this channel.
    """
    if not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 and not text[1].isspace() else ""
    name, _, addressee = word.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return ""  # a command for another bot
    return name.lower() if name else None


def update_kind(update: Update) -> str | None:
    """What the channel does with an update: 'message', 'callback' or None (ignored)."""
    if update.callback_query is not None:
        return "callback"
    if update.message is not None or update.channel_post is not None:
        return "message"
    return None


def chat_of(update: Update) -> Chat | None:
    """The chat an update belongs to, if any."""
    if update.callback_query is not None:
        message = update.callback_query.message
        return message.chat if message is not None else None
    message = update.message or update.channel_post
    return message.chat if message is not None else None


class TelegramInput(InputChannel):
    """Receives Telegram updates on a webhook and hands private chats' messages to Rasa."""

    @classmethod
    def name(cls) -> str:
        """URL prefix (/webhooks/telegram/) and input channel name in trackers."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "TelegramInput":
        """Read the configuration; a missing token turns the channel off, never fails."""
        try:
            config = TelegramConfig.load(credentials)
        except Exception:  # a broken configuration must not stop the other channels
            logger.exception("Telegram channel disabled: its configuration could not be read")
            return cls(TelegramConfig(), enabled=False)
        problem = config.problem()
        if problem is None:
            logger.info(
                "Telegram channel enabled on /webhooks/telegram/webhook (%s)",
                config.base_url or "api.telegram.org",
            )
        elif config.token:
            logger.error("Telegram channel disabled: %s", problem)
        else:
            logger.info("Telegram channel disabled: %s", problem)
        return cls(config, enabled=problem is None)

    def __init__(
        self,
        config: TelegramConfig,
        enabled: bool = True,
        database_url: str | None = None,
        lock_store: LockStore | None = None,
    ) -> None:
        """Ledger in `database_url` (default DATABASE_URL); turns on `lock_store` (default:
        the lock store of the Rasa server that receives the update)."""
        self.config = config
        self.enabled = enabled
        self.database_url = database_url
        self.lock_store = lock_store
        self._ledger: UpdateLedger | None = None
        self.keys = CallbackKeys()
        self._bot: Bot | None = None
        self._output: TelegramOutput | None = None
        self._tasks: set[asyncio.Task] = set()
        self._declined: OrderedDict[int, float] = OrderedDict()
        self._slots: asyncio.Semaphore | None = None
        self._arrivals = ArrivalOrder()  # chat ids whose tickets are being taken
        self._ready: asyncio.Lock | None = None
        self._initialized = False

    @property
    def ledger(self) -> UpdateLedger:
        """The database ledger of updates, made on first use inside a worker (never before fork)."""
        if self._ledger is None:
            self._ledger = UpdateLedger(self.database_url)
        return self._ledger

    def lock_store_for(self, request: Request) -> LockStore:
        """Where a chat's turns are kept: Rasa's own lock store (endpoints.yml) by default."""
        return self.lock_store or request.app.ctx.agent.lock_store

    @property
    def bot(self) -> Bot:
        """The PTB Bot, made in the worker process (by `prepare`, else on first use)."""
        if self._bot is None:
            self._bot = self.config.make_bot()
        return self._bot

    async def prepare(self) -> None:
        """Make the Bot and the ledger in a thread: loading the HTTP clients' CA certificates
        would hold up the event loop for a few hundred milliseconds."""
        await asyncio.to_thread(self._clients)

    def _clients(self) -> tuple[Bot, UpdateLedger]:
        """The Bot and the ledger, made if not yet."""
        return self.bot, self.ledger

    async def ready(self) -> Bot:
        """The Bot, initialized once (its HTTP pool, and getMe, which checks the token)."""
        bot = self.bot
        if self._ready is None:
            self._ready = asyncio.Lock()
        async with self._ready:
            if not self._initialized:
                await bot.initialize()
                self._initialized = True
        return bot

    @property
    def output(self) -> TelegramOutput:
        """The output channel every reply goes through."""
        if self._output is None:
            self._output = TelegramOutput(self.bot, self.keys)
        return self._output

    def get_output_channel(self) -> TelegramOutput | None:
        """For Rasa's /conversations/<chat id>/execute?output_channel=latest."""
        return self.output if self.enabled else None

    # ---- HTTP ----

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """GET / (status) and, when enabled, POST /webhook and the start/stop listeners."""
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        if not self.enabled:
            return telegram_webhook

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @telegram_webhook.listener("before_server_start")
        async def starting(_app: Any, _loop: Any) -> None:
            await self.prepare()

        @telegram_webhook.listener("before_server_stop")
        async def stopping(_app: Any, _loop: Any) -> None:
            await self.close()

        return telegram_webhook

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Check, parse and acknowledge one update; the work happens in a background task."""
        supplied = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), self.config.secret.encode()):
            logger.warning("Telegram webhook: wrong or missing secret token from %s", request.ip)
            return response.json({"ok": False, "description": "forbidden"}, status=403)
        body = request.body or b""
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.bot)
        except Exception:  # any parse failure is the sender's fault: 400
            logger.warning("Telegram webhook: malformed update (%d bytes)", len(body))
            return response.json({"ok": False, "description": "malformed update"}, status=400)
        chat = chat_of(update)
        if update_kind(update) is None or chat is None:
            logger.info("Telegram update %s: not handled, ignored", update.update_id)
            return response.json({"ok": True})
        try:
            turn = await self.accept(update.update_id, chat.id, self.lock_store_for(request))
        except (LockError, SQLAlchemyError) as error:
            logger.warning(
                "Telegram update %s: not accepted (%s), Telegram will send it again",
                update.update_id,
                type(error).__name__,
            )
            return response.json({"ok": False, "description": "try again"}, status=503)
        if turn is None:
            logger.info("Telegram update %s: already accepted, dropped", update.update_id)
            return response.json({"ok": True})
        work = self.process(update, chat, turn, on_new_message)
        self.spawn(work, f"update {update.update_id} chat {chat.id}")
        return response.json({"ok": True})

    async def accept(self, update_id: int, chat_id: int, store: LockStore) -> Turn | None:
        """Take the chat's next turn and record the update; None (no turn) for a repeat.

        Nothing is awaited between the ledger's acceptance and the caller's spawning of the
        work, so an accepted update is never dropped.
        """
        async with self._arrivals.turn_of(chat_id):  # tickets in this process's arrival order
            turn = await take_turn(store, chat_id)
        try:
            first = await in_thread(partial(self.ledger.accept, update_id, chat_id))
        except BaseException:
            await end_turn(turn)
            raise
        if not first:
            await end_turn(turn)
            return None
        return turn

    # ---- background work ----

    def spawn(self, coroutine: Coroutine[Any, Any, Any], context: str) -> asyncio.Task:
        """Run a coroutine in the background, keeping a reference and logging failures."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("Telegram %s failed", context, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def process(
        self, update: Update, chat: Chat, turn: Turn, on_new_message: OnNewMessage
    ) -> None:
        """Handle one update in its chat's turn, then let the chat's next update go."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(POOL_SIZE)
        try:
            await wait_for(turn)
            async with self._slots:
                await self.handle(update, chat, on_new_message)
        finally:
            await end_turn(turn)

    async def handle(self, update: Update, chat: Chat, on_new_message: OnNewMessage) -> None:
        """A message or a tapped button; failures are logged, never raised."""
        try:
            await self.ready()
            if update.callback_query is not None:
                await self.on_callback(update, update.callback_query, chat, on_new_message)
            else:
                message = update.message or update.channel_post
                if message is not None:
                    await self.on_message(update, message, chat, on_new_message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Telegram update %s for chat %s failed", update.update_id, chat.id)

    async def on_message(
        self, update: Update, message: Message, chat: Chat, on_new_message: OnNewMessage
    ) -> None:
        """A message: decline groups, answer commands, pass text to Rasa."""
        output = self.output
        if chat.type != ChatType.PRIVATE:
            logger.info(
                "Telegram update %s: %s chat %s declined", update.update_id, chat.type, chat.id
            )
            await self.decline(chat.id)
            return
        text = message.text
        if text is None:
            logger.info(
                "Telegram update %s: non-text message from chat %s", update.update_id, chat.id
            )
            await output.say(chat.id, NOT_TEXT)
            return
        command = command_of(text, self.config.bot_username)
        logger.info(
            "Telegram update %s: %s from chat %s",
            update.update_id,
            f"command /{command}" if command is not None else "text",
            chat.id,
        )
        if command == "start":
            await output.say(chat.id, PRIVACY_NOTICE)
            for text_for_rasa in START_MESSAGES:
                await self.to_rasa(update, chat.id, text_for_rasa, on_new_message)
        elif command == "restart":
            await output.say(chat.id, RESTARTING)
            for text_for_rasa in RESTART_MESSAGES:
                await self.to_rasa(update, chat.id, text_for_rasa, on_new_message)
        elif command == "help":
            await output.say(chat.id, HELP_TEXT, HELP_BUTTONS)
        elif command is not None:
            await output.say(chat.id, UNKNOWN_COMMAND)
        else:
            await self.to_rasa(update, chat.id, text, on_new_message)

    async def on_callback(
        self, update: Update, query: CallbackQuery, chat: Chat, on_new_message: OnNewMessage
    ) -> None:
        """A tapped button: answer it, mark the keyboard, send its payload to Rasa."""
        output = self.output
        if chat.type != ChatType.PRIVATE:
            await output.answer_callback(query.id, chat.id, DECLINE_SHORT)
            return
        payload = self.keys.decode(query.data) if query.data else None
        logger.info(
            "Telegram update %s: button from chat %s%s",
            update.update_id,
            chat.id,
            "" if payload else " (expired)",
        )
        if not payload:
            await output.answer_callback(query.id, chat.id, EXPIRED_BUTTON)
            return
        await output.answer_callback(query.id, chat.id)
        if query.message is not None and query.data:
            await output.mark_pressed(query.message, query.data)
        await self.to_rasa(update, chat.id, payload, on_new_message)

    async def to_rasa(
        self, update: Update, chat_id: int, text: str, on_new_message: OnNewMessage
    ) -> None:
        """One user message to Rasa, with 'typing…' shown while the bot works."""
        message = UserMessage(
            text,
            self.output,
            str(chat_id),
            input_channel=self.name(),
            metadata={"telegram": {"update_id": update.update_id}},
        )
        async with self.output.typing(chat_id):
            await on_new_message(message)

    async def decline(self, chat_id: int) -> None:
        """Tell a group or channel, at most once in a while, that the bot chats one-to-one."""
        now = time.monotonic()
        last = self._declined.get(chat_id)
        if last is not None and now - last < DECLINE_COOLDOWN:
            return
        self._remember(self._declined, chat_id, now, 1024)
        username = self.config.bot_username or self.bot.username
        link = f" (https://t.me/{username})" if username else ""
        await self.output.say(chat_id, DECLINE.format(link=link))

    async def close(self) -> None:
        """Let running updates finish (briefly), then close the HTTP client."""
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
            for task in late:
                task.cancel()
        if self._bot is not None:
            try:
                if self._initialized:
                    await self._bot.shutdown()
                else:  # used without initialize() (e.g. Rasa's execute API): close the pool
                    await self._bot.request.shutdown()
            except Exception:
                logger.exception("Telegram client shutdown failed")

    @staticmethod
    def _remember(store: OrderedDict, key: Any, value: Any, capacity: int) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > capacity:
            store.popitem(last=False)
