"""Settings validation and the run-time channel configuration."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.cli import main
from bot.cli import servers as cli
from bot.cli.config import TABLE_END, TABLE_START, settings_table, table_in, with_table
from bot.core.settings import Settings, get_settings


def test_placeholder_token_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="RASA_API_TOKEN"):
        Settings(environment="production", rasa_api_token="dev-token-change-me")


def test_real_token_is_accepted_in_production() -> None:
    settings = Settings(
        environment="production",
        rasa_api_token="s3cr3t-" * 4,
        staff_secret_key="k3y-" * 10,
        widget_session_secret="w1dg3t-" * 6,
    )
    assert settings.environment == "production" and settings.cookies_secure


def test_placeholder_staff_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="STAFF_SECRET_KEY"):
        Settings(environment="production", rasa_api_token="s3cr3t-" * 4)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="staging")


@pytest.mark.parametrize("enabled", [True, False])
def test_rest_channel_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path, enabled: bool
) -> None:
    monkeypatch.setenv("REST_CHANNEL_ENABLED", str(enabled).lower())
    monkeypatch.setenv("RUN_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        written = yaml.safe_load(Path(cli.channel_credentials()).read_text())
    finally:
        get_settings.cache_clear()
    assert ("rest" in written) is enabled
    assert "bot.rasa.channels.socketio.SocketIOInput" in written


def test_addresses_come_from_settings_even_with_awkward_env_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RASA_PORT", "6005")
    monkeypatch.setenv("STAFF_PORT", "9081")
    monkeypatch.setenv("SMTP_SENDER", "Pilot Rock <intake@pilotrock.example>; $HOME")
    get_settings.cache_clear()
    try:
        assert cli.addresses(None) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "http://localhost:6005  (REST: POST /webhooks/rest/webhook)" in out
    assert "http://localhost:9081" in out and "make shell" in out


def test_settings_table_prints_the_generated_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "table"]) == 0
    assert capsys.readouterr().out == settings_table()


def test_settings_table_write_replaces_only_what_lies_between_the_markers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    before = (
        f"# Title\n\n## Configuration\n\n{TABLE_START}\n| old | table |\n{TABLE_END}\n\nAfter.\n"
    )
    readme.write_text(before)
    assert main(["settings", "table", "--write", "--readme", str(readme)]) == 0
    written = readme.read_text()
    assert written == with_table(before, settings_table())
    assert written.startswith("# Title\n\n## Configuration\n\n") and written.endswith("\nAfter.\n")
    assert "| old | table |" not in written and table_in(written) == settings_table()
    assert "updated" in capsys.readouterr().out
    assert main(["settings", "table", "--write", "--readme", str(readme)]) == 0
    assert "already current" in capsys.readouterr().out and readme.read_text() == written


def test_settings_table_write_needs_the_markers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# No markers here\n")
    assert main(["settings", "table", "--write", "--readme", str(readme)]) == 2
    assert TABLE_START in capsys.readouterr().err
    assert readme.read_text() == "# No markers here\n"


def test_settings_show_still_masks_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIDGET_SESSION_SECRET", "w1dg3t-very-secret")
    get_settings.cache_clear()
    try:
        assert main(["settings", "show"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "WIDGET_SESSION_SECRET=(set)\n" in out and "very-secret" not in out
