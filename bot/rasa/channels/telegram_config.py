"""The Telegram channel's configuration and its PTB `Bot`.

Values come from the credentials block when it names them, otherwise from the settings
(`TELEGRAM_TOKEN`, `TELEGRAM_SECRET_TOKEN`, `TELEGRAM_BASE_URL`, `TELEGRAM_WEBHOOK_URL`,
`TELEGRAM_BOT_USERNAME` in the environment or `.env`). No token means the channel is off.
"""

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.settings import get_settings

FIELDS = ("token", "secret_token", "base_url", "webhook_url", "bot_username")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in the secret token.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The updates the channel handles; everything else is not even delivered.
ALLOWED_UPDATES = ["message", "callback_query", "channel_post"]
POOL_SIZE = 32  # concurrent Bot API requests
# Loggers that can see the token: httpx logs every request URL (/bot<token>/method) at INFO.
TOKEN_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.BaseRequest",
    "telegram.HTTPXRequest",
    "bot.rasa.channels.telegram",
)


class RedactToken(logging.Filter):
    """Replace the bot token in log records (message, arguments and traceback) with <token>."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact, never drop."""
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


def redact_token_in_logs(token: str) -> None:
    """Keep the token out of every log line the channel and its HTTP client write."""
    if not token:
        return
    for name in TOKEN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))


@dataclass(frozen=True)
class TelegramConfig:
    """What the channel and the CLI need to talk to the Bot API."""

    token: str = ""
    secret_token: str = ""
    base_url: str = ""
    webhook_url: str = ""
    bot_username: str = ""

    @classmethod
    def load(cls, credentials: dict[str, Any] | None = None) -> "TelegramConfig":
        """Credentials values where given (and not empty), settings for the rest."""
        settings = get_settings()
        values = {}
        for field in FIELDS:
            value = (credentials or {}).get(field)
            if value in (None, ""):
                value = getattr(settings, f"telegram_{field}")
            values[field] = str(value or "").strip()
        values["bot_username"] = values["bot_username"].lstrip("@")
        return cls(**values)

    @property
    def enabled(self) -> bool:
        """Whether there is a token at all."""
        return bool(self.token)

    @property
    def secret(self) -> str:
        """The webhook secret: the configured one, or one derived from the token."""
        if self.secret_token:
            return self.secret_token
        return hmac.new(
            self.token.encode(), b"pilot-rock telegram webhook", hashlib.sha256
        ).hexdigest()

    def problem(self) -> str | None:
        """Why the channel cannot run with this configuration, or None."""
        if not self.token:
            return "TELEGRAM_TOKEN is not set"
        if self.secret_token and not SECRET_PATTERN.fullmatch(self.secret_token):
            return "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        return None

    def make_bot(self, *, polling: bool = False) -> Bot:
        """A PTB Bot with a pooled HTTPX client sized for concurrent conversations."""
        redact_token_in_logs(self.token)
        request = HTTPXRequest(
            connection_pool_size=POOL_SIZE,
            connect_timeout=5.0,
            read_timeout=15.0,
            write_timeout=15.0,
            pool_timeout=5.0,
            media_write_timeout=30.0,
        )
        # getUpdates long-polls on its own connection; PTB adds the poll timeout to read_timeout.
        updates_request = HTTPXRequest(
            connection_pool_size=1, connect_timeout=5.0, read_timeout=10.0, pool_timeout=5.0
        )
        return Bot(
            self.token,
            base_url=self.base_url or DEFAULT_BASE_URL,
            request=request,
            get_updates_request=updates_request if polling else None,
        )
