"""`python -m bot telegram ...`: register the webhook, inspect it, or poll for development.

    set-webhook --url https://example.org/webhooks/telegram/webhook [--drop-pending-updates]
    delete-webhook [--drop-pending-updates]
    info
    poll [--rasa-url http://localhost:5005] [--once]

`poll` is for development without a public URL: it fetches updates with getUpdates and POSTs
each one, with the secret header, to the running server's webhook, so they take the same path as
in production. The token comes from the settings (TELEGRAM_TOKEN); without it every command
stops with a clear message and exit code 2. The Telegram libraries load only when a telegram
command runs, so the rest of `python -m bot` stays quick.
"""

import argparse
import sys

WEBHOOK_PATH = "/webhooks/telegram/webhook"


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The `telegram` command and its subcommands."""
    parser = sub.add_parser("telegram", help="Telegram: webhook registration, development polling")
    commands = parser.add_subparsers(dest="telegram_command", required=True)

    command = commands.add_parser("set-webhook", help=set_webhook.__doc__)
    command.add_argument(
        "--url",
        help="public HTTPS address of the webhook, ending in "
        f"{WEBHOOK_PATH} (default: TELEGRAM_WEBHOOK_URL)",
    )
    command.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard updates Telegram is still holding",
    )
    command.set_defaults(func=set_webhook)

    command = commands.add_parser("delete-webhook", help=delete_webhook.__doc__)
    command.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard updates Telegram is still holding",
    )
    command.set_defaults(func=delete_webhook)

    commands.add_parser("info", help=info.__doc__).set_defaults(func=info)

    command = commands.add_parser("poll", help=poll.__doc__)
    command.add_argument(
        "--rasa-url", help="the running Rasa server (default: http://localhost:$RASA_PORT)"
    )
    command.add_argument("--timeout", type=int, default=25, help="long-poll seconds (default 25)")
    command.add_argument(
        "--once", action="store_true", help="forward one batch of updates, then stop"
    )
    command.set_defaults(func=poll)


def set_webhook(args: argparse.Namespace) -> int:
    """Register the webhook URL with the secret token (and the bot's command menu)."""
    from bot.rasa.channels import telegram_admin as admin

    config = admin.configured()
    url = args.url or config.webhook_url
    if not url:
        raise ValueError("no webhook URL: pass --url or set TELEGRAM_WEBHOOK_URL")
    if not url.startswith("https://"):
        raise ValueError(f"Telegram only delivers to https:// URLs, not {url}")
    return admin.run(config, admin.set_webhook(config, url, args.drop_pending_updates))


def delete_webhook(args: argparse.Namespace) -> int:
    """Remove the webhook (needed before `poll`)."""
    from bot.rasa.channels import telegram_admin as admin

    config = admin.configured()
    return admin.run(config, admin.delete_webhook(config, args.drop_pending_updates))


def info(_: argparse.Namespace) -> int:
    """Show the bot and its webhook as Telegram sees them."""
    from bot.rasa.channels import telegram_admin as admin

    config = admin.configured()
    return admin.run(config, admin.info(config))


def poll(args: argparse.Namespace) -> int:
    """Development: fetch updates with getUpdates and POST them to the running server."""
    from bot.core.settings import get_settings
    from bot.rasa.channels import telegram_admin as admin

    config = admin.configured()
    rasa_url = args.rasa_url or f"http://localhost:{get_settings().rasa_port}"
    try:
        return admin.run(config, admin.poll_and_forward(config, rasa_url, args.timeout, args.once))
    except KeyboardInterrupt:
        print("stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.cli.telegram <subcommand>`: the same commands without `bot.cli`."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["telegram", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
