"""`python -m bot settings show`: what a started program sees, secrets masked, env over `.env`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.config import effective, without_password
from bot.core.settings import Settings
from tests.cluster.support import ROOT


def show(extra: dict[str, str]) -> dict[str, str]:
    """Run `settings show` as a new process with `extra` in its environment."""
    output = subprocess.run(
        [sys.executable, "-m", "bot", "settings", "show"],
        cwd=ROOT,
        env=os.environ | extra,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines())


def test_a_new_process_sees_the_environment_and_no_secret() -> None:
    shown = show(
        {
            "RASA_WORKERS": "7",
            "RASA_API_TOKEN": "tok-very-secret",
            "DATABASE_URL": "postgresql://app:pg-secret@db.internal:5432/pilotrock",
        }
    )
    assert shown["RASA_WORKERS"] == "7"
    assert shown["RASA_API_TOKEN"] == "(set)"
    assert shown["DATABASE_URL"] == "postgresql://app:***@db.internal:5432/pilotrock"
    assert "secret" not in "".join(shown.values())


def test_environment_wins_over_dotenv_and_dotenv_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RASA_WORKERS=2\nDATABASE_URL=sqlite:///from-dotenv.db\nWEB_PORT=9090\n")
    monkeypatch.setenv("RASA_WORKERS", "1")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.delenv("WEB_PORT", raising=False)
    shown = effective(Settings(_env_file=str(dotenv)))
    assert shown["RASA_WORKERS"] == "1" and shown["DATABASE_URL"] == "sqlite:///from-env.db"
    assert shown["WEB_PORT"] == "9090"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/%2F", "amqp://guest:***@127.0.0.1:5672/%2F"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("sqlite:///var/pilotrock.db", "sqlite:///var/pilotrock.db"),
    ],
)
def test_passwords_are_masked_in_urls(url: str, expected: str) -> None:
    assert without_password(url) == expected
