"""Settings validation and the run-time channel configuration."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.cli import servers as cli
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
