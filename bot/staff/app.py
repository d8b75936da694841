"""The staff web app: transcripts, leads, bookings and the dashboard, behind named accounts.

A separate process from the demo site (`python -m bot run-staff`, STAFF_HOST:STAFF_PORT,
default 127.0.0.1:8081). Pages are rendered on the server (Jinja2, autoescaped) and need no
JavaScript; one small script of our own (static/live.js, no inline code) keeps the live chat
and the waiting count current: the live chat through a stream the app pushes (`bot.staff.push`,
one reader of new events per process), the count by polling. Sessions live in the database
(`bot.staff.sessions`); every route declares the permission it needs (`bot.staff.permissions`);
every POST carries a CSRF token. Each response carries a strict Content-Security-Policy and the
other security headers; pages behind the login are never cached.

`app.state.clock` gives the current time (aware UTC) for session limits and lockouts: tests
replace it to move time forward without sleeping. `app.state.open_conversation` opens a
conversation on Rasa's HTTP API for live takeover: tests replace it with a stand-in for Rasa.
`app.state.live_feed` pushes new messages to open live pages; `app.state.stream_seconds` is how
long one of their streams lasts before the page reconnects (tests that read a stream whole
through Starlette's TestClient, which waits for the end of a response, shorten it).
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.core.settings import Settings, get_settings
from bot.db.models import utcnow
from bot.db.session import session_factory
from bot.handoff.conversation import Conversation
from bot.staff.encoded_ids import EncodedConversationIds
from bot.staff.push.feed import LiveFeed
from bot.staff.push.stream import STREAM_SECONDS
from bot.staff.views import (
    admin,
    auth,
    availability,
    conversations,
    dashboard,
    leads,
    live,
    operations,
)
from bot.staff.views.base import Context, redirect, render, requires
from bot.web.headers import SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"
SHUTDOWN_SECONDS = 3  # open live streams do not hold up a shutdown longer (pages reconnect)
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def cache_control(path: str) -> dict[str, str]:
    """Static files may be cached (revalidated); pages, which hold health data, never."""
    return {"Cache-Control": "no-cache" if path.startswith("/static/") else "no-store"}


@requires(None)
def home(_: Context) -> Response:
    """GET /: the inbox."""
    return redirect("/conversations")


async def healthz(_: Request) -> Response:
    """GET /healthz: the process is up."""
    return Response("ok\n", media_type="text/plain")


async def health(request: Request) -> Response:
    """GET /health: 200 when the database answers, else 503 (for supervisors and balancers)."""
    try:
        with request.app.state.sessions() as db:
            db.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unhealthy"
        return JSONResponse({"ok": False, "database": type(error).__name__}, 503)
    return JSONResponse({"ok": True, "database": "ok"})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (404, 405, a malformed form) as a plain page."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    titles = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}
    return render(
        request,
        "error.html",
        {"title": titles.get(status, "Error"), "message": _error_text(status), "user": None},
        status,
    )


def _error_text(status: int) -> str:
    """A short explanation of an HTTP error status."""
    if status == 404:
        return "There is no such page."
    if status == 405:
        return "This address does not accept that kind of request."
    return "The request could not be handled."


def routes() -> list[Route | Mount]:
    """Every route of the staff app (each view module lists its own)."""
    return [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        *auth.routes,
        *conversations.routes,
        *live.routes,
        *leads.routes,
        *operations.routes,
        *availability.routes,
        *dashboard.routes,
        *admin.routes,
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Stop the live feed (and end its streams) when the app shuts down."""
    yield
    app.state.live_feed.stop()


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> Starlette:
    """The staff app on `settings.database_url` (default: the process settings).

    `settings` gives the database, the cookie flags and the signing key; the session limits and
    the lockout are applied by `bot.staff.sessions` and `bot.staff.accounts` from the process
    settings (`get_settings()`).
    """
    settings = settings or get_settings()
    app = Starlette(
        routes=routes(), exception_handlers={HTTPException: http_error}, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.sessions = session_factory(settings.database_url)
    app.state.clock = clock or utcnow
    app.state.open_conversation = lambda conversation_id: Conversation(conversation_id, settings)
    app.state.live_feed = LiveFeed(settings.database_url)
    app.state.stream_seconds = STREAM_SECONDS
    app.add_middleware(EncodedConversationIds)
    app.add_middleware(SecurityHeaders, headers=SECURITY_HEADERS, per_path=cache_control)
    return app


def run_staff(_: Namespace | None = None) -> int:
    """Serve the staff app (STAFF_HOST:STAFF_PORT, default 127.0.0.1:8081)."""
    import uvicorn

    from bot.rasa.events import ensure_events_table

    settings = get_settings()
    with session_factory(settings.database_url)() as db:
        ensure_events_table(db)  # the inbox reads Rasa's table even before Rasa has run
        db.commit()
    print(f"Staff app: http://localhost:{settings.staff_port}", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.staff_host,
        port=settings.staff_port,
        log_level=settings.log_level.lower(),
        server_header=False,
        ws="none",
        proxy_headers=False,
        access_log=False,  # request lines hold search text and conversation ids
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    return 0
