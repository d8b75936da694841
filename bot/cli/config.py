"""`python -m bot settings show`: the effective settings as this process sees them."""

import argparse
from urllib.parse import urlsplit, urlunsplit

from bot.core.settings import Settings, get_settings

SECRET_WORDS = ("token", "secret", "password", "key")  # any setting so named is a secret
URLS = {"database_url", "redis_url", "rabbitmq_url"}


def without_password(url: str) -> str:
    """A URL with its password replaced by `***` (user, host and path kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def shown(name: str, value: object) -> str:
    """One setting's value as printed: secrets only say whether they are set."""
    if any(word in name for word in SECRET_WORDS):
        return "(set)" if value else "(empty)"
    if value is None:
        return ""
    if name in URLS:
        return without_password(str(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def effective(settings: Settings) -> dict[str, str]:
    """Every setting by its environment name, secrets masked."""
    return {name.upper(): shown(name, value) for name, value in settings.dict().items()}


def settings_show(_: argparse.Namespace) -> int:
    """Print the effective settings (environment, then `.env`, then defaults); secrets masked."""
    for name, value in effective(get_settings()).items():
        print(f"{name}={value}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `settings show`."""
    group = sub.add_parser("settings", help="inspect the effective settings")
    commands = group.add_subparsers(dest="settings_command", required=True)
    commands.add_parser("show", help=settings_show.__doc__).set_defaults(func=settings_show)
