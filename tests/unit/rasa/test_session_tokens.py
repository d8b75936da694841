"""Widget session tokens, and the secret that signs them."""

import base64
import uuid

import pytest
from pydantic import ValidationError

from bot.core.settings import Settings
from bot.rasa.channels import session_tokens

SECRET = "test-widget-secret-0123456789abcdef"


@pytest.fixture
def session_id() -> str:
    return uuid.uuid4().hex


def test_an_issued_token_verifies_for_its_session(session_id: str) -> None:
    token = session_tokens.issue(session_id, secret=SECRET)
    assert session_tokens.verify(session_id, token, secret=SECRET)
    assert "=" not in token and len(base64.urlsafe_b64decode(token + "=")) == 32


def test_the_token_of_one_session_does_not_open_another(session_id: str) -> None:
    token = session_tokens.issue(session_id, secret=SECRET)
    assert not session_tokens.verify(uuid.uuid4().hex, token, secret=SECRET)
    assert not session_tokens.verify(session_id.upper(), token, secret=SECRET)


def test_a_tampered_token_is_refused(session_id: str) -> None:
    token = session_tokens.issue(session_id, secret=SECRET)
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (flipped, token[:-1], token + "A", "", token.upper()):
        assert not session_tokens.verify(session_id, bad, secret=SECRET), bad


def test_a_token_signed_with_another_secret_is_refused(session_id: str) -> None:
    token = session_tokens.issue(session_id, secret="another-secret-" * 3)
    assert not session_tokens.verify(session_id, token, secret=SECRET)


@pytest.mark.parametrize("value", [None, 42, {"id": 1}, "x" * 500])
def test_anything_but_strings_of_sane_length_is_refused(session_id: str, value: object) -> None:
    token = session_tokens.issue(session_id, secret=SECRET)
    assert not session_tokens.verify(value, token, secret=SECRET)
    assert not session_tokens.verify(session_id, value, secret=SECRET)


def test_the_settings_secret_is_the_default(session_id: str) -> None:
    token = session_tokens.issue(session_id)
    assert session_tokens.verify(session_id, token)
    assert not session_tokens.verify(session_id, token, secret=SECRET)


def test_a_placeholder_widget_secret_is_refused_in_production() -> None:
    real = {"rasa_api_token": "s3cr3t-" * 4, "staff_secret_key": "k3y-" * 10}
    with pytest.raises(ValidationError, match="WIDGET_SESSION_SECRET"):
        Settings(environment="production", **real)
    with pytest.raises(ValidationError, match="WIDGET_SESSION_SECRET"):
        Settings(environment="production", widget_session_secret="short", **real)
    settings = Settings(environment="production", widget_session_secret=SECRET, **real)
    assert settings.widget_session_secret.get_secret_value() == SECRET
