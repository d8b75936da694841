"""Fixtures for the Telegram channel: the fake Bot API, the channel, the real servers."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import requests
from rasa.core.channels.channel import UserMessage
from ruamel.yaml import YAML

from bot.core.settings import get_settings
from bot.db.migrate import upgrade
from bot.rasa.channels.telegram import TelegramInput
from bot.rasa.channels.telegram_config import SECRET_HEADER, TelegramConfig
from bot.rasa.runtime.lock_store import ProjectLockStore
from tests.support.servers import ROOT, Servers, missing_prerequisites, running_servers
from tests.telegram.fake_bot_api import BOT_USER, FakeBotApi

SECRET = "test-secret_Token-42"
WEBHOOK_URL = "https://example.org/webhooks/telegram/webhook"
CHANNEL = "bot.rasa.channels.telegram.TelegramInput"


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeBotApi]:
    """The fake Bot API on a free loopback port, for the whole session."""
    api = FakeBotApi().start()
    yield api
    api.stop()


def telegram_env(api: FakeBotApi) -> dict[str, str]:
    """The settings that point the channel and the CLI at the fake Bot API."""
    return {
        "TELEGRAM_TOKEN": api.token,
        "TELEGRAM_SECRET_TOKEN": SECRET,
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_BOT_USERNAME": BOT_USER["username"],
    }


@pytest.fixture
def env_for_fake(monkeypatch: pytest.MonkeyPatch, fake_api: FakeBotApi) -> Iterator[dict]:
    """This process's environment pointed at the fake (settings re-read before and after)."""
    env = telegram_env(fake_api)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


@pytest.fixture
def config(fake_api: FakeBotApi) -> TelegramConfig:
    """A configuration aimed at the fake Bot API."""
    return TelegramConfig(
        token=fake_api.token,
        secret_token=SECRET,
        base_url=fake_api.base_url,
        bot_username=BOT_USER["username"],
    )


@dataclass
class Collector:
    """Stands in for Rasa: records the UserMessages the channel hands over."""

    messages: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0
    fail_on: str | None = None

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_on is not None and message.text == self.fail_on:
            raise RuntimeError("the agent fell over")

    @property
    def texts(self) -> list[str]:
        return [message.text for message in self.messages]


@pytest.fixture(scope="session")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for the channels' ledgers and turn locks (update ids never
    repeat across tests, so one database serves them all)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('telegram') / 'channel.db'}"
    upgrade(url)
    return url


def make_channel(config: TelegramConfig, url: str, **options: Any) -> TelegramInput:
    """A channel as one Rasa process holds it: ledger and turn locks in the database at `url`."""
    options.setdefault("lock_store", ProjectLockStore(url=url))
    return TelegramInput(config, database_url=url, **options)


@pytest_asyncio.fixture(loop_scope="function")
async def channel(config: TelegramConfig, shared_db: str) -> AsyncIterator[TelegramInput]:
    """An enabled channel (in this process) talking to the fake Bot API."""
    made = make_channel(config, shared_db)
    yield made
    await made.close()


def channel_in_credentials() -> bool:
    """Whether credentials.yml enables the Telegram channel."""
    credentials = YAML(typ="safe").load((ROOT / "credentials.yml").read_text()) or {}
    return CHANNEL in credentials


@dataclass
class TelegramServers:
    """The real servers with the Telegram channel on, and the fake Bot API they talk to."""

    servers: Servers
    api: FakeBotApi
    workdir: Path

    def log(self) -> str:
        """Everything the Rasa server has logged so far (its own file and its output)."""
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.workdir.glob("rasa*.log"))
        )

    @property
    def webhook(self) -> str:
        return f"{self.servers.rasa_url}/webhooks/telegram/webhook"

    def post(
        self, update: Any, secret: str | None = SECRET, raw: bytes | None = None
    ) -> requests.Response:
        """POST an update to the webhook as Telegram does."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        if raw is None:
            return requests.post(self.webhook, json=update, headers=headers, timeout=30)
        return requests.post(self.webhook, data=raw, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def telegram_servers(
    fake_api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TelegramServers]:
    """The real Rasa and action servers with the Telegram channel aimed at the fake Bot API."""
    reason = missing_prerequisites()
    if reason:
        pytest.skip(reason)
    if not channel_in_credentials():
        pytest.skip(f"credentials.yml has no `{CHANNEL}:` block, so the channel is not loaded")
    # INFO, so the tests can check what the channel logs (ids, never message text).
    env = telegram_env(fake_api) | {"LOG_LEVEL": "INFO"}
    workdir = tmp_path_factory.mktemp("telegram-servers")
    with running_servers(workdir, extra_env=env) as servers:
        yield TelegramServers(servers, fake_api, workdir)


def subprocess_env(api: FakeBotApi, **extra: str) -> dict[str, str]:
    """Environment for a `python -m bot ...` child aimed at the fake Bot API."""
    return os.environ | {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"} | telegram_env(api) | extra
