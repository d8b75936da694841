"""CSRF tokens: a signed double-submit cookie for the login form, the session's token elsewhere."""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

LOGIN_COOKIE = "pilotrock_staff_login"
FIELD = "csrf_token"
LOGIN_TOKEN_SECONDS = 2 * 60 * 60  # a login form older than this must be reloaded
_SALT = "pilotrock-staff-login-csrf"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    """The signer of login-form tokens."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def tokens_match(expected: str | None, given: object) -> bool:
    """Constant-time comparison of two tokens; anything missing or not text never matches."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_login_token(secret_key: str) -> tuple[str, str]:
    """A fresh login-form token and the signed cookie value that carries it."""
    token = secrets.token_urlsafe(32)
    return token, _serializer(secret_key).dumps(token)


def check_login_token(secret_key: str, cookie: str | None, given: object) -> bool:
    """Whether the form's token equals the one signed into the login cookie (and is recent)."""
    if not cookie:
        return False
    try:
        signed = _serializer(secret_key).loads(cookie, max_age=LOGIN_TOKEN_SECONDS)
    except BadSignature:  # also SignatureExpired
        return False
    return isinstance(signed, str) and tokens_match(signed, given)
