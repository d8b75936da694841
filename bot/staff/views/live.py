"""Live takeover: the waiting requests, the live page, joining, writing and handing back.

The page works without JavaScript (plain forms, a Refresh link). With it, `static/live.js`
follows live/stream (Server-Sent Events pushed by the app's one live feed, `bot.staff.push`) for
new messages and the takeover state, and polls live.json only while the stream is down; it polls
count.json for the navigation's waiting count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import case, select
from starlette.responses import JSONResponse, Response

from bot.conversations.review import require_conversation
from bot.conversations.transcript import Item, build_transcript
from bot.db.handoffs import OPEN_STATUSES, Handoff
from bot.handoff import state, takeover
from bot.handoff.conversation import ConversationUnavailableError
from bot.handoff.state import HandoffError
from bot.handoff.takeover import Opener, TakeoverError
from bot.rasa.events import StoredEvent, events_after
from bot.staff.chat import (
    OUTCOME_LABELS,
    chat_items,
    handoffs_of,
    live_state,
    staff_names,
)
from bot.staff.encoded_ids import conversation_url
from bot.staff.permissions import Permission
from bot.staff.push.feed import LiveFeed
from bot.staff.push.stream import EventStream
from bot.staff.push.subscribers import Ticket
from bot.staff.views.base import Context, Routes, redirect
from bot.staff.views.conversations import conversation

FEED_LIMIT = 200  # events per live.json answer; the script asks again at once when there are more
NOTICES = {
    "joined": "You have joined the chat: the assistant is paused.",
    "sent": "Message sent.",
    "handed-back": "You handed the chat back to the assistant.",
}
NO_STORE = {"Cache-Control": "no-store"}
routes = Routes()  # declared on each handler below


def live_url(conversation_id: str, **query: str) -> str:
    """The live page of a conversation."""
    return f"{conversation_url(conversation_id)}/live" + ("?" + urlencode(query) if query else "")


def opener(ctx: Context) -> Opener:
    """How this app reaches a conversation through Rasa (tests point it at a stand-in)."""
    return ctx.request.app.state.open_conversation


def may_override(ctx: Context) -> bool:
    """Whether this staff member may hand back a chat someone else holds (admins)."""
    return ctx.user.role == "admin"


def status_of(error: TakeoverError) -> int:
    """The HTTP status of a refused step: Rasa away 503, someone else's claim 409, else 400."""
    if isinstance(error.__cause__, ConversationUnavailableError):
        return 503
    if isinstance(error.__cause__, HandoffError):
        return 409
    return 400


@routes.get("/handoffs", Permission.VIEW_CONVERSATIONS)
def handoffs(ctx: Context) -> Response:
    """GET /handoffs: waiting requests (oldest first), then the chats staff are in."""
    rows = ctx.db.scalars(
        select(Handoff)
        .where(Handoff.status.in_(OPEN_STATUSES))
        .order_by(case((Handoff.status == "waiting", 0), else_=1), Handoff.requested_at, Handoff.id)
    ).all()
    ids = [h.claimed_by_id for h in rows] + [h.requested_by_staff_id for h in rows]
    return ctx.render(
        "handoffs.html",
        title="Live chats",
        rows=rows,
        names=staff_names(ctx.db, ids),
        live_url=live_url,
        reply_minutes=ctx.settings.handoff_reply_minutes,
        claim_minutes=ctx.settings.handoff_claim_minutes,
    )


@routes.get("/handoffs/count.json", Permission.VIEW_CONVERSATIONS, background=True)
def waiting(ctx: Context) -> Response:
    """GET /handoffs/count.json: how many requests wait (the navigation's badge)."""
    return JSONResponse({"waiting": state.waiting_count(ctx.db)}, headers=NO_STORE)


def live_page(
    ctx: Context,
    conversation_id: str,
    status_code: int = 200,
    error: str | None = None,
    text: str = "",
    note: str = "",
) -> Response:
    """The live page; after a refused step, the error and what the staff member typed."""
    events, full, masked, _ = conversation(ctx, conversation_id)
    personal = ctx.can(Permission.VIEW_PERSONAL)
    history = handoffs_of(ctx.db, conversation_id)
    ids = [h.claimed_by_id for h in history] + [h.requested_by_staff_id for h in history]
    if error is None:
        ctx.notice(NOTICES)
    return ctx.render(
        "live.html",
        status_code,
        title="Live chat",
        conversation_id=conversation_id,
        url=conversation_url(conversation_id),
        live=live_url(conversation_id),
        items=chat_items((full if personal else masked).items),
        cursor=events[-1].id,
        state=live_state(ctx.db, conversation_id, ctx.user),
        history=history,
        names=staff_names(ctx.db, ids),
        outcomes=OUTCOME_LABELS,
        personal=personal,
        override=may_override(ctx),
        settings=ctx.settings,
        error=error,
        text=text,
        note=note,
    )


@routes.get("/conversations/{conversation_id}/live", Permission.VIEW_CONVERSATIONS)
def live(ctx: Context) -> Response:
    """GET /conversations/{id}/live: the chat so far, the takeover state and its forms."""
    conversation_id = ctx.param("conversation_id")
    response = live_page(ctx, conversation_id)
    personal = ctx.can(Permission.VIEW_PERSONAL)
    ctx.audit("view_live_chat", "conversation", conversation_id, {"masked": not personal})
    return response


def cursor_of(value: str | None) -> int:
    """The `after` event id of a live.json request (0 when missing)."""
    if not value:
        return 0
    if not value.isdigit() or len(value) > 18:
        raise ValueError("after must be an event id")
    return int(value)


def shown_items(ctx: Context, conversation_id: str, new: list[StoredEvent]) -> list[Item]:
    """The transcript items of new events, masked as the transcript view masks them."""
    if ctx.can(Permission.VIEW_PERSONAL):
        return build_transcript(new).items
    _, _, masked, _ = conversation(ctx, conversation_id)  # masking needs the whole conversation
    first, last = new[0].id, new[-1].id
    return [item for item in masked.items if first <= item.event_id <= last]


@routes.get(
    "/conversations/{conversation_id}/live.json", Permission.VIEW_CONVERSATIONS, background=True
)
def feed(ctx: Context) -> Response:
    """GET /conversations/{id}/live.json?after=N: messages after event N, and the state."""
    conversation_id = ctx.param("conversation_id")
    after = cursor_of(ctx.request.query_params.get("after"))
    new = events_after(ctx.db, conversation_id, after, FEED_LIMIT)
    items = chat_items(shown_items(ctx, conversation_id, new)) if new else []
    body: dict[str, Any] = {
        "cursor": new[-1].id if new else after,
        "more": len(new) == FEED_LIMIT,
        "items": [item.as_json() for item in items],
        "state": live_state(ctx.db, conversation_id, ctx.user).as_json(),
    }
    return JSONResponse(body, headers=NO_STORE)


def live_feed(ctx: Context) -> LiveFeed:
    """This process's live feed (one reader of new events for every open page)."""
    return ctx.request.app.state.live_feed


@routes.get(
    "/conversations/{conversation_id}/live/stream", Permission.VIEW_CONVERSATIONS, background=True
)
def stream(ctx: Context) -> Response:
    """GET /conversations/{id}/live/stream?after=N: new messages and the state, pushed (SSE).

    The same checks as the page: a session, the permission, an existing conversation. Roles
    without VIEW_PERSONAL are handed the masked view only.
    """
    conversation_id = ctx.param("conversation_id")
    after = cursor_of(ctx.request.query_params.get("after"))
    require_conversation(ctx.db, conversation_id)
    personal = ctx.can(Permission.VIEW_PERSONAL)
    ticket = Ticket(conversation_id, personal, ctx.user.id, ctx.user.display_name, after)
    return EventStream(live_feed(ctx), ticket, ctx.request.app.state.stream_seconds)


def refused(ctx: Context, conversation_id: str, error: TakeoverError, **typed: str) -> Response:
    """The live page again with the reason and the staff member's text kept."""
    ctx.db.rollback()  # the takeover step undid (and committed) whatever it had to
    return live_page(ctx, conversation_id, status_of(error), str(error), **typed)


@routes.post("/conversations/{conversation_id}/join", Permission.TAKE_OVER)
def join(ctx: Context) -> Response:
    """POST /conversations/{id}/join: claim the chat and pause the assistant."""
    conversation_id = ctx.param("conversation_id")
    live_for = timedelta(minutes=ctx.settings.handoff_live_minutes)
    try:
        takeover.join(ctx.db, opener(ctx), conversation_id, ctx.user, ctx.now, live_for)
    except TakeoverError as error:
        return refused(ctx, conversation_id, error)
    return redirect(live_url(conversation_id, done="joined") + "#compose")


@routes.post("/conversations/{conversation_id}/messages", Permission.TAKE_OVER)
def message(ctx: Context) -> Response:
    """POST /conversations/{id}/messages: send `text` to the visitor."""
    conversation_id, text = ctx.param("conversation_id"), ctx.field("text", strip=False)
    try:
        takeover.send(ctx.db, opener(ctx), conversation_id, ctx.user, text, ctx.now)
    except TakeoverError as error:
        return refused(ctx, conversation_id, error, text=text)
    return redirect(live_url(conversation_id, done="sent") + "#compose")


@routes.post("/conversations/{conversation_id}/hand-back", Permission.TAKE_OVER)
def hand_back(ctx: Context) -> Response:
    """POST /conversations/{id}/hand-back: resume the assistant; `note` is kept for staff."""
    conversation_id, note = ctx.param("conversation_id"), ctx.field("note", strip=False)
    try:
        takeover.hand_back(
            ctx.db,
            opener(ctx),
            conversation_id,
            ctx.user,
            note,
            ctx.now,
            may_override=may_override(ctx),
        )
    except TakeoverError as error:
        return refused(ctx, conversation_id, error, note=note)
    return redirect(live_url(conversation_id, done="handed-back"))
