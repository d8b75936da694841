"""Bot API housekeeping for the CLI: the webhook, the command menu, and development polling.

`poll_and_forward` is for development without a public URL: it fetches updates with getUpdates
and POSTs each one, with the secret header, to the running server's webhook, so they take the
same code path as in production.
"""

import asyncio
import sys
from collections.abc import Coroutine
from functools import partial
from typing import Any

import httpx
from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError

from bot.rasa.channels.telegram_config import ALLOWED_UPDATES, SECRET_HEADER, TelegramConfig
from bot.rasa.channels.telegram_output import call_api

COMMANDS = [
    BotCommand("start", "Begin the conversation"),
    BotCommand("restart", "Start over"),
    BotCommand("help", "What I can do"),
]
WEBHOOK_PATH = "/webhooks/telegram/webhook"
MAX_CONNECTIONS = 40  # Telegram's concurrent webhook deliveries
FORWARD_ATTEMPTS_ONCE = 5


def configured() -> TelegramConfig:
    """The channel's configuration, or a ValueError (exit code 2) saying what is missing."""
    config = TelegramConfig.load()
    problem = config.problem()
    if problem:
        if not config.token:
            problem += " (the bot token from @BotFather, in the environment or .env)"
        raise ValueError(problem)
    return config


def run(config: TelegramConfig, coroutine: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; Telegram errors become a message (never the token)."""
    try:
        return asyncio.run(coroutine)
    except InvalidToken:
        print("error: Telegram rejected the token (TELEGRAM_TOKEN)", file=sys.stderr)
        return 2
    except TelegramError as error:
        print(f"error: Telegram: {str(error).replace(config.token, '<token>')}", file=sys.stderr)
        return 1


async def set_webhook(config: TelegramConfig, url: str, drop_pending_updates: bool) -> int:
    """Register the webhook with the secret token, and the bot's command menu."""
    async with config.make_bot() as bot:
        register = partial(
            bot.set_webhook,
            url,
            secret_token=config.secret,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=MAX_CONNECTIONS,
            drop_pending_updates=drop_pending_updates,
        )
        await call_api("setWebhook", None, register)
        await call_api("setMyCommands", None, partial(bot.set_my_commands, COMMANDS))
        print(f"webhook of @{bot.username} set to {url}")
    return 0


async def delete_webhook(config: TelegramConfig, drop_pending_updates: bool) -> int:
    """Remove the webhook."""
    async with config.make_bot() as bot:
        remove = partial(bot.delete_webhook, drop_pending_updates=drop_pending_updates)
        await call_api("deleteWebhook", None, remove)
        print(f"webhook of @{bot.username} deleted")
    return 0


async def info(config: TelegramConfig) -> int:
    """Print the bot and its webhook as Telegram sees them."""
    async with config.make_bot() as bot:
        hook = await call_api("getWebhookInfo", None, bot.get_webhook_info)
    print(f"bot:             @{bot.username} (id {bot.id})")
    print(f"webhook:         {hook.url or '(none: updates wait for getUpdates)'}")
    print(f"pending updates: {hook.pending_update_count}")
    if hook.allowed_updates:
        print(f"allowed updates: {', '.join(hook.allowed_updates)}")
    if hook.max_connections:
        print(f"max connections: {hook.max_connections}")
    if hook.last_error_date:
        print(
            f"last error:      {hook.last_error_date:%Y-%m-%d %H:%M:%S %Z} "
            f"{hook.last_error_message or ''}".rstrip()
        )
    return 0


async def poll_and_forward(config: TelegramConfig, rasa_url: str, timeout: int, once: bool) -> int:
    """getUpdates in a loop; POST each update, in order, to the server's webhook; confirm it."""
    target = rasa_url.rstrip("/") + WEBHOOK_PATH
    async with config.make_bot(polling=True) as bot, httpx.AsyncClient(timeout=30.0) as client:
        hook = await call_api("getWebhookInfo", None, bot.get_webhook_info)
        if hook.url:
            raise ValueError(
                f"a webhook is set ({hook.url}) and getUpdates does not work while "
                "it is: run `python -m bot telegram delete-webhook` first"
            )
        print(f"polling @{bot.username}; forwarding updates to {target} (Ctrl-C stops)")
        offset: int | None = None
        try:
            while True:
                fetch = partial(
                    bot.get_updates, offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
                )
                for update in await call_api("getUpdates", None, fetch):
                    await forward(client, target, config.secret, update, once)
                    offset = update.update_id + 1
                if once:
                    return 0
        finally:
            if offset is not None:  # confirm what was forwarded, so it is not fetched again
                await bot.get_updates(offset=offset, timeout=0, limit=1)


async def forward(
    client: httpx.AsyncClient, target: str, secret: str, update: Update, once: bool
) -> None:
    """POST one update to the webhook, waiting for the server while it is not up."""
    attempt = 0
    while True:
        attempt += 1
        try:
            reply = await client.post(
                target, json=update.to_dict(), headers={SECRET_HEADER: secret}
            )
        except httpx.HTTPError as error:
            status, detail = None, type(error).__name__
        else:
            status, detail = reply.status_code, f"HTTP {reply.status_code}"
        if status == 200:
            print(f"update {update.update_id} forwarded")
            return
        if status == 400:
            print(f"update {update.update_id} refused as malformed; skipped", file=sys.stderr)
            return
        if status == 403:
            raise ValueError(
                "the server refused the secret token: does it run with the same "
                "TELEGRAM_TOKEN / TELEGRAM_SECRET_TOKEN?"
            )
        if status == 404:
            raise ValueError(
                f"no Telegram webhook at {target}: is the channel enabled there "
                "(credentials.yml block, TELEGRAM_TOKEN)?"
            )
        if once and attempt >= FORWARD_ATTEMPTS_ONCE:
            raise ValueError(f"could not forward update {update.update_id} to {target}: {detail}")
        delay = min(2.0**attempt, 30.0)
        print(f"server not ready ({detail}); retrying in {delay:.0f}s", file=sys.stderr)
        await asyncio.sleep(delay)
