"""Widget session tokens: proof that the server issued a session id to this browser.

A token is HMAC-SHA256 over the purpose-labelled session id, keyed with WIDGET_SESSION_SECRET,
in unpadded base64url. Only the browser the server gave the token to can rejoin the session.
"""

import base64
import hashlib
import hmac

from bot.core.settings import get_settings

PURPOSE = b"pilotrock/widget-session/v1\x00"
MAX_LENGTH = 128  # longer ids or tokens are never ours


def _secret(secret: str | None) -> bytes:
    """The given secret, else WIDGET_SESSION_SECRET."""
    value = secret if secret is not None else get_settings().widget_session_secret
    text = value if isinstance(value, str) else value.get_secret_value()
    return text.encode()


def issue(session_id: str, *, secret: str | None = None) -> str:
    """The token for `session_id`."""
    digest = hmac.new(_secret(secret), PURPOSE + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(session_id: object, token: object, *, secret: str | None = None) -> bool:
    """Whether `token` is the token issued for `session_id`."""
    if not (isinstance(session_id, str) and isinstance(token, str)):
        return False
    if not (0 < len(session_id) <= MAX_LENGTH and 0 < len(token) <= MAX_LENGTH):
        return False
    expected = issue(session_id, secret=secret).encode()
    return hmac.compare_digest(expected, token.encode())
