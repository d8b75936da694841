"""What every staff page shares: the signed-in context, the permission check, CSRF, rendering."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.conversations.review import ConversationNotFoundError, actor_of
from bot.core.settings import Settings
from bot.db import audit
from bot.db.staff import StaffSession, StaffUser
from bot.handoff.state import waiting_count
from bot.staff.chat import emergency_label
from bot.staff.csrf import FIELD, tokens_match
from bot.staff.encoded_ids import conversation_url, decoded_id
from bot.staff.permissions import Permission, can
from bot.staff.sessions import load_session

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_FIELDS = 60
MAX_PART_BYTES = 64 * 1024
SESSION_COOKIE = "pilotrock_staff"
SECURE_SESSION_COOKIE = "__Host-pilotrock_staff"  # the prefix needs Secure, path=/ and no Domain

ERROR_TITLES = {403: "Forbidden", 404: "Not found"}

Handler = Callable[["Context"], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
Row = TypeVar("Row")

# Menu entries: (path, label, permission needed to see the entry).
MENU = (
    ("/conversations", "Inbox", Permission.VIEW_CONVERSATIONS),
    ("/handoffs", "Live chats", Permission.VIEW_CONVERSATIONS),
    ("/leads", "Leads", Permission.VIEW_LEADS),
    ("/bookings", "Bookings", Permission.VIEW_BOOKINGS),
    ("/callbacks", "Callbacks", Permission.MANAGE_CALLBACKS),
    ("/outbox", "Outbox", Permission.VIEW_OUTBOX),
    ("/availability", "Availability", Permission.EDIT_AVAILABILITY),
    ("/dashboard", "Dashboard", Permission.VIEW_DASHBOARD),
    ("/users", "Users", Permission.MANAGE_USERS),
    ("/audit", "Audit log", Permission.VIEW_AUDIT),
)


def _format_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp as text in UTC (the staff app's one clock)."""
    return "" if value is None else value.strftime(fmt) + " UTC"


def _local(value: datetime | None, zone: str) -> str:
    """A timestamp as wall-clock time in an IANA zone ('Wed 05 Mar 10:00 MST')."""
    return "" if value is None else value.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M %Z")


def _shown(value: object) -> str:
    """A slot or entity value as text (JSON for lists and mappings; escaped by the template)."""
    if value is None:
        return "(empty)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def make_environment() -> Environment:
    """The templates' Jinja2 environment: autoescape on for every template, strict undefined."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _format_time
    env.filters["shown"] = _shown
    env.filters["local"] = _local
    env.filters["conversation_url"] = conversation_url
    env.filters["emergency_label"] = emergency_label
    return env


ENVIRONMENT = make_environment()


def session_cookie_name(settings: Settings) -> str:
    """The session cookie's name (`__Host-` prefixed when cookies are Secure)."""
    return SECURE_SESSION_COOKIE if settings.cookies_secure else SESSION_COOKIE


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (no scheme, host or backslash), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def login_url(*, next_path: str | None = None, **flags: str) -> str:
    """/login with an optional `next` path to return to and message flags."""
    query = dict(flags)
    if next_path and local_path(next_path, "") not in ("", "/"):
        query["next"] = next_path
    return "/login" + ("?" + urlencode(query) if query else "")


def page_number(value: str | None) -> int:
    """A page number from the query (1 when missing or not a positive number)."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 1_000_000 else 1


@dataclass(frozen=True)
class Paged:
    """One page of a list and where it stands."""

    rows: list[Any]
    page: int
    pages: int
    total: int


def paginate(db: Session, query: Select, page: str | None, per_page: int) -> Paged:
    """The rows of page `page` (from the query string; clamped to the last page) of `query`."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, ceil(total / per_page))
    number = min(page_number(page), pages)
    rows = list(db.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Paged(rows=rows, page=number, pages=pages, total=total)


def redirect(url: str) -> RedirectResponse:
    """A 303 See Other to `url` (after a POST the browser GETs the page)."""
    return RedirectResponse(url, status_code=303)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a template (autoescaped) into an HTML response."""
    html = ENVIRONMENT.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


class NotFoundError(LookupError):
    """The row a path names does not exist; the message is shown on a 404 page."""


@dataclass
class Context:
    """One signed-in request: the database session, the staff member, the form, the time."""

    request: Request
    db: Session
    settings: Settings
    now: datetime
    user: StaffUser
    staff_session: StaffSession
    form: FormData | None = None
    messages: list[str] = field(default_factory=list)

    def can(self, permission: Permission) -> bool:
        """Whether the signed-in staff member holds `permission`."""
        return can(self.user.role, permission)

    @property
    def actor(self) -> str:
        """This staff member as an audit actor."""
        return actor_of(self.user)

    def audit(
        self,
        action: str,
        target_type: str,
        target_id: str | int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit record by this staff member (ids and counts only in `details`)."""
        audit.record(
            self.db,
            actor=self.actor,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            details=details,
        )

    def field(self, name: str, default: str = "", *, strip: bool = True) -> str:
        """A form field as text, trimmed unless told (files and missing fields: `default`)."""
        value = self.form.get(name) if self.form is not None else None
        if not isinstance(value, str):
            return default
        return value.strip() if strip else value

    def param(self, name: str) -> str:
        """A path parameter as text (a conversation id decoded: `bot.staff.encoded_ids`)."""
        value = str(self.request.path_params[name])
        return decoded_id(value) if name == "conversation_id" else value

    def found(self, model: type[Row], param: str, message: str) -> Row:
        """The `model` row whose id is the path parameter `param`, else NotFoundError(message)."""
        row = self.db.get(model, self.request.path_params[param])
        if row is None:
            raise NotFoundError(message)
        return row

    def flag(self, name: str) -> bool:
        """Whether the query string sets `name` to 1 (the notices after a redirect)."""
        return self.request.query_params.get(name) == "1"

    def notice(self, notices: dict[str, str]) -> None:
        """Show the notice that the query string's `done` names, if it names one."""
        text = notices.get(self.request.query_params.get("done", ""))
        if text:
            self.messages.append(text)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a page with the menu, the user and the CSRF token filled in."""
        menu = [(path, label) for path, label, needed in MENU if self.can(needed)]
        waiting = waiting_count(self.db) if self.can(Permission.VIEW_CONVERSATIONS) else 0
        return render(
            self.request,
            template,
            {
                "user": self.user,
                "menu": menu,
                "csrf_token": self.staff_session.csrf_token,
                "can": self.can,
                "P": Permission,
                "now": self.now,
                "messages": self.messages,
                "waiting": waiting,
                **context,
            },
            status_code,
        )

    def fail(self, message: str, status_code: int = 400) -> HTMLResponse:
        """An error page with a message and a way back."""
        title = ERROR_TITLES.get(status_code, "Not done")
        return self.render("error.html", status_code, title=title, message=message)


def forbidden(request: Request, message: str) -> HTMLResponse:
    """The 403 page (shown without the menu: nothing is assumed about the visitor)."""
    return render(
        request, "error.html", {"title": "Forbidden", "message": message, "user": None}, 403
    )


def _open(request: Request) -> Session:
    """A database session from the app's session factory."""
    factory: sessionmaker = request.app.state.sessions
    return factory()


def _signed_in(
    request: Request,
    form: FormData | None,
    handler: Handler,
    permission: Permission | None,
    background: bool = False,
) -> Response:
    """Load the session, check permission and CSRF, run the handler in one transaction.

    A `background` request (a page script polling) does not count as activity for the idle limit.
    """
    settings: Settings = request.app.state.settings
    now: datetime = request.app.state.clock()
    token = request.cookies.get(session_cookie_name(settings))
    with _open(request) as db:
        staff_session = load_session(db, token, now=now, touch=not background) if token else None
        db.commit()  # keeps last_seen_at, or the removal of an expired session
        if staff_session is None:
            return _to_login(request, settings, expired=bool(token))
        context = Context(request, db, settings, now, staff_session.user, staff_session, form)
        if permission is not None and not context.can(permission):
            return context.fail("Your role does not allow this page or action.", 403)
        if form is not None and not tokens_match(staff_session.csrf_token, form.get(FIELD)):
            return context.fail(CSRF_MESSAGE, 403)
        try:
            response = handler(context)
            db.commit()
        except ConversationNotFoundError:
            db.rollback()
            return context.fail("There is no such conversation (it may have been erased).", 404)
        except NotFoundError as missing:
            db.rollback()
            return context.fail(str(missing), 404)
        except ValueError as error:  # invalid input: the message says what to change
            db.rollback()
            return context.fail(str(error))
        except BaseException:
            db.rollback()
            raise
        return response


CSRF_MESSAGE = (
    "The form's security token is missing or wrong. Reload the page and try again; "
    "nothing was changed."
)


def _to_login(request: Request, settings: Settings, *, expired: bool) -> Response:
    """Redirect to the login page; an ended session says so and loses its cookie."""
    next_path: str | None = request.url.path
    if request.url.query:
        next_path = f"{request.url.path}?{request.url.query}"
    if request.method != "GET":
        next_path = None
    flags = {"expired": "1"} if expired else {}
    response = redirect(login_url(next_path=next_path, **flags))
    if expired:
        clear_session_cookie(response, settings)
    return response


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.cookies_secure,
        httponly=True,
        samesite="strict",
    )


async def read_form(request: Request) -> FormData | None:
    """The posted form (small fields, no files), or None for other methods."""
    if request.method != "POST":
        return None
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_PART_BYTES)


def requires(
    permission: Permission | None, *, background: bool = False
) -> Callable[[Handler], Endpoint]:
    """Make a handler a route that needs a signed-in staff member holding `permission`.

    None means any signed-in staff member. POSTs must carry the session's CSRF token.
    `background` routes (polled by page scripts) leave the session's idle clock alone.
    """

    def wrap(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            form = await read_form(request)
            return await run_in_threadpool(
                _signed_in, request, form, handler, permission, background
            )

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        endpoint.permission = permission  # type: ignore[attr-defined]
        return endpoint

    return wrap


class Routes:
    """A view module's routes, each declared on its handler with the permission it needs."""

    def __init__(self) -> None:
        """No routes yet."""
        self.table: list[Route] = []

    def __iter__(self) -> Iterator[Route]:
        """The routes in the order they were declared."""
        return iter(self.table)

    def get(
        self, path: str, permission: Permission | None, *, background: bool = False
    ) -> Callable[[Handler], Endpoint]:
        """Declare a GET route (`background`: polled by a page script, see `requires`)."""
        return self.add("GET", path, requires(permission, background=background))

    def post(self, path: str, permission: Permission | None) -> Callable[[Handler], Endpoint]:
        """Declare a POST route (the form must carry the session's CSRF token)."""
        return self.add("POST", path, requires(permission))

    def add(
        self, method: str, path: str, guard: Callable[[Handler], Endpoint]
    ) -> Callable[[Handler], Endpoint]:
        """Guard the handler and add it as the route for `method` and `path`."""

        def declare(handler: Handler) -> Endpoint:
            endpoint = guard(handler)
            self.table.append(Route(path, endpoint, methods=[method]))
            return endpoint

        return declare
