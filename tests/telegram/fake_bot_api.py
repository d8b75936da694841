"""A local fake of the Telegram Bot API for tests: no internet, every call recorded.

It listens on a free loopback port in a background thread (aiohttp, its own event loop) and
serves `POST /bot<token>/<method>` like Telegram: JSON, form-encoded or multipart bodies, the
`{"ok": true, "result": ...}` envelope, Messages with increasing message ids. It is strict where
Telegram is: HTML must parse (only Telegram's tags, balanced, `<` and `&` escaped), a message
holds 4,096 characters after parsing, callback_data 64 bytes; otherwise 400 like Telegram.
`retry_after_once()` makes the next matching call answer 429 with `retry_after`.
"""

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, TypeVar

from aiohttp import web

TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Pilot Rock (test)",
    "username": "PilotRockTestBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "entities",
    "reply_parameters",
    "link_preview_options",
    "caption_entities",
    "scope",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
T = TypeVar("T")


@dataclass
class Call:
    """One Bot API request as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        """The chat the call was about, if any."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


class BadRequestError(Exception):
    """A 400 answer with Telegram's description."""


class ConflictError(Exception):
    """A 409 answer."""


class _TelegramHtml(HTMLParser):
    """Telegram-HTML -> (plain text, bold entities), raising BadRequestError like Telegram does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.open: list[tuple[str, int]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in HTML_TAGS:
            raise BadRequestError(
                f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"'
            )
        self.open.append((tag, utf16(self.text)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise BadRequestError(f'Bad Request: can\'t parse entities: unexpected end tag "{tag}"')
        name, start = self.open.pop()
        if name in {"b", "strong"} and utf16(self.text) > start:
            self.entities.append(
                {"type": "bold", "offset": start, "length": utf16(self.text) - start}
            )

    def handle_data(self, data: str) -> None:
        self.text += data


def utf16(text: str) -> int:
    """Telegram's length: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse text like Telegram's HTML mode; BadRequestError on what Telegram would refuse."""
    for index, char in enumerate(text):
        if char == "&":
            tail = text[index : index + 10]
            if not any(tail.startswith(e) for e in ("&lt;", "&gt;", "&amp;", "&quot;", "&#")):
                raise BadRequestError("Bad Request: can't parse entities: unescaped '&'")
        if char == "<" and not (
            text[index + 1 : index + 2].isalpha() or text[index + 1 : index + 2] == "/"
        ):
            raise BadRequestError("Bad Request: can't parse entities: unescaped '<'")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise BadRequestError(
            f'Bad Request: can\'t parse entities: unclosed "{parser.open[-1][0]}"'
        )
    return parser.text, parser.entities


class FakeBotApi:
    """The fake server. `start()` it, point PTB's `base_url` at `base_url`, read `calls`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {"url": ""}
        self.port = 0
        self._lock = threading.Lock()
        self._failures: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1000)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-bot-api", daemon=True
        )

    # ---- lifecycle ----

    @property
    def base_url(self) -> str:
        """What to give PTB (and TELEGRAM_BASE_URL): the token is appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "FakeBotApi":
        """Listen on a free loopback port; returns once it accepts connections."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    # ---- what tests use ----

    def retry_after_once(self, method: str, chat_id: int | None = None, seconds: int = 1) -> None:
        """The next `method` call (for `chat_id`, if given) answers 429 retry_after=seconds."""
        self.fail_next(
            method,
            chat_id,
            429,
            f"Too Many Requests: retry after {seconds}",
            parameters={"retry_after": seconds},
        )

    def fail_next(
        self, method: str, chat_id: int | None, code: int, description: str, **extra: Any
    ) -> None:
        """The next `method` call (for `chat_id`, if given) fails with this Bot API error."""
        with self._lock:
            self._failures.append(
                {
                    "method": method,
                    "chat_id": chat_id,
                    "code": code,
                    "description": description,
                    "extra": extra,
                }
            )

    def add_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates."""
        with self._lock:
            self._updates.append(update)

    def calls_of(
        self, method: str | None = None, chat_id: int | None = None, ok_only: bool = True
    ) -> list[Call]:
        """Recorded calls, filtered by method and chat, successful ones unless told."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if (method is None or c.method == method)
            and (chat_id is None or c.chat_id == chat_id)
            and (not ok_only or c.status == 200)
        ]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat, as Telegram stored them (latest edits included)."""
        with self._lock:
            found = [m for (chat, _), m in self._messages.items() if chat == chat_id]
        return sorted(found, key=lambda m: m["message_id"])

    def wait_for(self, probe: Callable[[], T], timeout: float = 60.0) -> T:
        """Poll `probe` until it returns something truthy; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {probe}")
            time.sleep(0.1)

    # ---- the API ----

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.status = 401
            return self._error(401, "Unauthorized")
        failure = self._take_failure(method, call.chat_id)
        if failure is not None:
            call.status = failure["code"]
            return self._error(failure["code"], failure["description"], **failure["extra"])
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            return self._error(404, "Not Found")
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except BadRequestError as error:
            call.status = 400
            return self._error(400, str(error))
        except ConflictError as error:
            call.status = 409
            return self._error(409, str(error))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, **extra: Any) -> web.Response:
        body = {"ok": False, "error_code": code, "description": description, **extra}
        return web.json_response(body, status=code)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw = await request.json() if request.can_read_body else {}
        else:
            form = await request.post()
            raw = {}
            for key, value in form.items():
                if hasattr(value, "file"):  # an uploaded file
                    raw[key] = {"filename": value.filename, "size": len(value.file.read())}
                else:
                    raw[key] = value
        params = {}
        for key, value in raw.items():
            if isinstance(value, str) and key in JSON_FIELDS:
                value = json.loads(value)
            elif isinstance(value, str) and key in INT_FIELDS and value.lstrip("-").isdigit():
                value = int(value)
            elif isinstance(value, str) and value in ("true", "false") and key != "text":
                value = value == "true"
            params[key] = value
        return params

    def _take_failure(self, method: str, chat_id: int | None) -> dict[str, Any] | None:
        with self._lock:
            for failure in self._failures:
                if failure["method"] == method and failure["chat_id"] in (None, chat_id):
                    self._failures.remove(failure)
                    return failure
        return None

    def _text(self, params: dict[str, Any], key: str = "text") -> tuple[str, list]:
        text = str(params.get(key, ""))
        if params.get("parse_mode") == "HTML":
            text, entities = parse_html(text)
        else:
            entities = []
        if not text.strip():
            raise BadRequestError("Bad Request: message text is empty")
        if utf16(text) > 4096:
            raise BadRequestError("Bad Request: message is too long")
        return text, entities

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise BadRequestError("Bad Request: BUTTON_DATA_INVALID")

    def _store(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            **content,
        }
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = message
        return message

    def _api_getMe(self, _: dict) -> dict:  # noqa: N802 - Bot API method names
        return BOT_USER

    def _api_sendMessage(self, params: dict) -> dict:  # noqa: N802
        text, entities = self._text(params)
        self._check_markup(params.get("reply_markup"))
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        return self._store(int(params["chat_id"]), **content)

    def _api_sendPhoto(self, params: dict) -> dict:  # noqa: N802
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 640, "height": 480}]
        return self._store(int(params["chat_id"]), photo=photo)

    def _edit(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self._messages.get(key)
        if message is None:
            raise BadRequestError("Bad Request: message to edit not found")
        return message

    def _api_editMessageText(self, params: dict) -> dict:  # noqa: N802
        message = self._edit(params)
        text, entities = self._text(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise BadRequestError("Bad Request: message is not modified")
        with self._lock:
            message.update(text=text, entities=entities)
            if markup and markup.get("inline_keyboard"):
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
        return message

    def _api_editMessageReplyMarkup(self, params: dict) -> dict:  # noqa: N802
        message = self._edit(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            if markup and markup.get("inline_keyboard"):
                message["reply_markup"] = markup
            elif "reply_markup" in message:
                message.pop("reply_markup")
            else:
                raise BadRequestError("Bad Request: message is not modified")
        return message

    def _api_answerCallbackQuery(self, _: dict) -> bool:  # noqa: N802
        return True

    def _api_sendChatAction(self, _: dict) -> bool:  # noqa: N802
        return True

    def _api_setMyCommands(self, _: dict) -> bool:  # noqa: N802
        return True

    def _api_setWebhook(self, params: dict) -> bool:  # noqa: N802
        with self._lock:
            self.webhook = {
                "url": params.get("url", ""),
                "secret_token": params.get("secret_token"),
                "allowed_updates": params.get("allowed_updates") or [],
                "max_connections": params.get("max_connections"),
            }
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_deleteWebhook(self, params: dict) -> bool:  # noqa: N802
        with self._lock:
            self.webhook = {"url": ""}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, _: dict) -> dict:  # noqa: N802
        with self._lock:
            info = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook.get("max_connections"):
                info["max_connections"] = self.webhook["max_connections"]
        return info

    async def _api_getUpdates(self, params: dict) -> list:  # noqa: N802
        if self.webhook.get("url"):
            raise ConflictError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = params.get("offset")
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                if offset is not None:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates[: int(params.get("limit") or 100)])
            if pending or time.monotonic() >= deadline:
                return pending
            await asyncio.sleep(0.05)


def plain(html_text: str) -> str:
    """Telegram HTML as the text a user sees (for assertions on recorded params)."""
    return parse_html(html_text)[0] if html_text else ""
