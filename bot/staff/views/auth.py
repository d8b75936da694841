"""Signing in and out: the login form with its signed CSRF cookie, and logout."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.conversations.review import actor_of
from bot.core.settings import Settings
from bot.db import audit
from bot.staff.accounts import LOGIN_FAILED_MESSAGE, LoginFailed, authenticate
from bot.staff.csrf import FIELD, LOGIN_COOKIE, check_login_token, new_login_token
from bot.staff.sessions import end_session, start_session
from bot.staff.views.base import (
    Context,
    clear_session_cookie,
    forbidden,
    local_path,
    read_form,
    redirect,
    render,
    requires,
    session_cookie_name,
)

ANONYMOUS = "anonymous"
USERNAME_MAX = 64
PASSWORD_MAX = 256


def _notice(request: Request, settings: Settings) -> str | None:
    """The message the login page opens with (from fixed flags, never from the query text)."""
    if request.query_params.get("expired") == "1":
        return (
            "Your session has ended: you were signed out after "
            f"{settings.staff_idle_minutes} minutes without activity or after "
            f"{settings.staff_session_hours} hours in all. Please sign in again."
        )
    if request.query_params.get("logged_out") == "1":
        return "You are signed out."
    return None


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The login form with a fresh token, also set as a signed cookie (double submit)."""
    token, cookie = new_login_token(settings.staff_secret_key)
    response = render(
        request,
        "login.html",
        {
            "user": None,
            "csrf_token": token,
            "next": next_path,
            "username": username,
            "error": error,
            "notice": None if error else _notice(request, settings),
        },
        status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=settings.cookies_secure,
        path="/login",
    )
    return response


async def login_form(request: Request) -> Response:
    """GET /login: the sign-in form."""
    settings: Settings = request.app.state.settings
    next_path = local_path(request.query_params.get("next"))
    return _login_page(request, settings, next_path=next_path)


async def login(request: Request) -> Response:
    """POST /login: check the form's token, then the username and password."""
    form = await read_form(request)
    return await run_in_threadpool(_login, request, form)


def _text(form: FormData | None, name: str, limit: int) -> str:
    """A form field as text, cut to `limit` characters."""
    value = form.get(name) if form is not None else None
    return value[:limit] if isinstance(value, str) else ""


def _login(request: Request, form: FormData | None) -> Response:
    """Sign in: a new server-side session and its cookie, or the form again with one message."""
    settings: Settings = request.app.state.settings
    now: datetime = request.app.state.clock()
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not check_login_token(settings.staff_secret_key, cookie, form and form.get(FIELD)):
        return forbidden(
            request,
            "The sign-in form's security token is missing, wrong or too old. "
            "Reload the sign-in page and try again.",
        )
    username = _text(form, "username", USERNAME_MAX).strip()
    password = _text(form, "password", PASSWORD_MAX)
    next_path = local_path(_text(form, "next", 2000))
    with request.app.state.sessions() as db:
        try:
            user = authenticate(db, username, password, now=now)
        except LoginFailed as failure:
            db.rollback()
            audit.record(
                db,
                actor=ANONYMOUS,
                action="login_failed",
                target_type="staff_user",
                target_id=None if failure.user_id is None else str(failure.user_id),
                details={"locked": failure.locked},
            )
            db.commit()
            return _login_page(
                request,
                settings,
                next_path=next_path,
                username=username,
                error=LOGIN_FAILED_MESSAGE,
                status_code=401,
            )
        token, _ = start_session(db, user, now=now)
        audit.record(
            db,
            actor=actor_of(user),
            action="login",
            target_type="staff_user",
            target_id=str(user.id),
        )
        db.commit()
    response = redirect(next_path)
    response.set_cookie(
        session_cookie_name(settings),
        token,
        httponly=True,
        samesite="strict",
        secure=settings.cookies_secure,
        path="/",
    )
    response.delete_cookie(
        LOGIN_COOKIE,
        path="/login",
        secure=settings.cookies_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@requires(None)
def logout(ctx: Context) -> Response:
    """POST /logout: end this session and drop its cookie."""
    end_session(ctx.db, ctx.request.cookies.get(session_cookie_name(ctx.settings)))
    ctx.audit("logout", "staff_user", ctx.user.id)
    response = redirect("/login?logged_out=1")
    clear_session_cookie(response, ctx.settings)
    return response


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
