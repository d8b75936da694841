"""Follow-up work: bookings and upcoming calls per navigator, the callback queue, the outbox."""

from __future__ import annotations

from itertools import groupby
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from bot.db.models import (
    BOOKING_STATUSES,
    OUTBOX_STATUSES,
    Booking,
    CallbackRequest,
    OutboxMessage,
)
from bot.staff.permissions import Permission
from bot.staff.views.base import Context, Routes, paginate, redirect

PER_PAGE = 50
RECENT_OUTBOX = 50
RECENT_DONE = 20
routes = Routes()  # declared on each handler below


@routes.get("/bookings", Permission.VIEW_BOOKINGS)
def bookings(ctx: Context) -> Response:
    """GET /bookings: upcoming calls per navigator, then every booking newest first."""
    status = ctx.request.query_params.get("status") or ""
    if status and status not in BOOKING_STATUSES:
        return ctx.fail(f"Unknown booking status: choose {', '.join(BOOKING_STATUSES)}.")
    upcoming = ctx.db.scalars(
        select(Booking)
        .options(selectinload(Booking.lead), selectinload(Booking.navigator))
        .where(Booking.status == "confirmed", Booking.ends_at > ctx.now)
        .order_by(Booking.navigator_id, Booking.starts_at)
    ).all()
    per_navigator = [
        (calls[0].navigator, calls)
        for calls in (list(group) for _, group in groupby(upcoming, key=lambda b: b.navigator_id))
    ]
    per_navigator.sort(key=lambda pair: pair[0].name)
    query = select(Booking).options(selectinload(Booking.lead), selectinload(Booking.navigator))
    if status:
        query = query.where(Booking.status == status)
    query = query.order_by(Booking.starts_at.desc(), Booking.id.desc())
    paged = paginate(ctx.db, query, ctx.request.query_params.get("page"), PER_PAGE)
    kept = {"status": status} if status else {}
    return ctx.render(
        "bookings.html",
        title="Bookings",
        per_navigator=per_navigator,
        bookings=paged.rows,
        status=status,
        status_options=[(s, s.capitalize()) for s in BOOKING_STATUSES],
        page=paged.page,
        pages=paged.pages,
        total=paged.total,
        page_url=lambda number: "/bookings?" + urlencode({**kept, "page": str(number)}),
    )


def callback_queue(db: Session) -> list[CallbackRequest]:
    """The open callback requests, oldest first."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.status == "open")
        .order_by(CallbackRequest.created_at, CallbackRequest.id)
    )
    return list(db.scalars(query))


def latest_done(db: Session) -> list[CallbackRequest]:
    """The latest callback requests marked done, newest first."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.status == "done")
        .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        .limit(RECENT_DONE)
    )
    return list(db.scalars(query))


@routes.get("/callbacks", Permission.MANAGE_CALLBACKS)
def callbacks(ctx: Context) -> Response:
    """GET /callbacks: open callback requests, oldest first, and the latest done ones."""
    return ctx.render(
        "callbacks.html",
        title="Callback requests",
        open_requests=callback_queue(ctx.db),
        done=latest_done(ctx.db),
        marked=ctx.flag("done"),
    )


@routes.post("/callbacks/{callback_id:int}/done", Permission.MANAGE_CALLBACKS)
def callback_done(ctx: Context) -> Response:
    """POST /callbacks/{id}/done: take a request off the open queue (audited)."""
    request = ctx.found(CallbackRequest, "callback_id", "There is no such callback request.")
    if request.status != "done":
        request.status = "done"
        ctx.audit("callback_done", "callback_request", request.id)
    return redirect("/callbacks?done=1")


def recent_messages(db: Session) -> list[Row]:
    """The latest outbox messages with their booking's reference (never their bodies)."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.next_attempt_at,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
            OutboxMessage.last_error,
            Booking.reference,
        )
        .outerjoin(Booking, Booking.id == OutboxMessage.booking_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(RECENT_OUTBOX)
    )
    return list(db.execute(query))


def outbox_counts(db: Session) -> list[tuple[str, int]]:
    """How many messages are in each outbox state, in OUTBOX_STATUSES order."""
    counts = dict(
        db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    return [(status, counts.get(status, 0)) for status in OUTBOX_STATUSES]


@routes.get("/outbox", Permission.VIEW_OUTBOX)
def outbox(ctx: Context) -> Response:
    """GET /outbox: messages per state and the latest ones (never their bodies)."""
    return ctx.render(
        "outbox.html", title="Outbox", counts=outbox_counts(ctx.db), recent=recent_messages(ctx.db)
    )
