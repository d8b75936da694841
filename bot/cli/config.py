"""`python -m bot settings show | table`: the effective settings, and the README's table of them.

`settings show` prints what this process sees, secrets masked. `settings table` prints the
configuration table generated from `Settings` (each field's description and default) and the
environment-only variables; `--write` puts it into README.md between the marker comments.
"""

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from pydantic.fields import ModelField

from bot.core.paths import ROOT
from bot.core.settings import ENVIRONMENT_ONLY, ENVIRONMENT_ONLY_AFTER, Settings, get_settings

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


README = ROOT / "README.md"
TABLE_START = "<!-- settings-table:start -->"
TABLE_END = "<!-- settings-table:end -->"
ENVIRONMENT_ONLY_NOTE = "production profile only, environment only: "


def is_secret(name: str, field: ModelField) -> bool:
    """A setting whose default must not be printed as it is."""
    return field.type_ is SecretStr or any(word in name for word in SECRET_WORDS)


def shown_default(name: str, field: ModelField) -> str:
    """A field's default as the table shows it: its `shown_default`, or the value as code."""
    declared = field.field_info.extra.get("shown_default")
    if declared is not None:
        return str(declared)
    value: Any = field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if is_secret(name, field):
        raise ValueError(f"{name.upper()} is a secret: give its Field a shown_default")
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def cell(text: str) -> str:
    """Text that stays inside one cell of a markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def row(name: str, default: str, description: str) -> str:
    """One line of the table."""
    return f"| `{name}` | {cell(default)} | {cell(description)} |"


def settings_table() -> str:
    """The README's configuration table: every setting, then the environment-only variables."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.__fields__.items():
        description = field.field_info.description
        if not description:
            raise ValueError(f"{name.upper()} has no description in bot/core/settings.py")
        lines.append(row(name.upper(), shown_default(name, field), description))
        if name == ENVIRONMENT_ONLY_AFTER:
            lines += [
                row(var.name, f"`{var.default}`", ENVIRONMENT_ONLY_NOTE + var.description)
                for var in ENVIRONMENT_ONLY
            ]
    return "\n".join(lines) + "\n"


def marked(text: str) -> tuple[int, int]:
    """Where the text between the table's markers starts and ends."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md needs the lines {TABLE_START} and {TABLE_END}, in order")
    return start + len(TABLE_START), end


def with_table(text: str, table: str) -> str:
    """`text` with what lies between the table's markers replaced by `table`."""
    start, end = marked(text)
    return f"{text[:start]}\n\n{table}\n{text[end:]}"


def table_in(text: str) -> str:
    """The table between the markers of `text` (as `with_table` writes it)."""
    start, end = marked(text)
    return text[start:end].strip("\n") + "\n"


def write_table(path: Path = README) -> bool:
    """Put the generated table into `path` between the markers; whether the file changed."""
    text = path.read_text(encoding="utf-8")
    updated = with_table(text, settings_table())
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def settings_table_command(args: argparse.Namespace) -> int:
    """Print the README's configuration table generated from the settings (--write: into it)."""
    if not args.write:
        print(settings_table(), end="")
        return 0
    changed = write_table(args.readme)
    print(f"{args.readme}: configuration table {'updated' if changed else 'already current'}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `settings show` and `settings table [--write]`."""
    group = sub.add_parser(
        "settings", help="inspect the effective settings, or print their README table"
    )
    commands = group.add_subparsers(dest="settings_command", required=True)
    commands.add_parser("show", help=settings_show.__doc__).set_defaults(func=settings_show)
    table = commands.add_parser("table", help=settings_table_command.__doc__)
    table.add_argument(
        "--write", action="store_true", help="write it into the README between its markers"
    )
    table.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    table.set_defaults(func=settings_table_command)
