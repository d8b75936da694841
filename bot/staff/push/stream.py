"""A live page's stream: Server-Sent Events from the live feed, ended after `STREAM_SECONDS`.

The view checks the session and the permission, as for the page itself, and hands over a
`Ticket`; this response opens the feed for it (503 when the feed cannot take it: the page polls
instead) and writes the frames it is handed until the page goes, the feed ends the stream, or
`STREAM_SECONDS` pass. Then a `reconnect` frame asks the page to open a new stream, so that the
session and the role are checked again at least that often.
"""

from __future__ import annotations

import asyncio
from functools import partial

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from bot.staff.push.feed import LiveFeed
from bot.staff.push.frames import KEEP_ALIVE, RECONNECT
from bot.staff.push.subscribers import PushUnavailableError, Ticket

STREAM_SECONDS = 60.0  # a stream's longest life: the session is checked again on reconnecting
KEEP_ALIVE_SECONDS = 15.0  # a comment line this often while nothing happens
INBOX_LIMIT = 500  # frames waiting for a slow page; past that it is asked to reconnect
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
UNAVAILABLE = "Live updates are unavailable just now; the page checks for new messages instead."


class EventStream(Response):
    """text/event-stream of one page's frames (see `bot.staff.push.frames`)."""

    media_type = "text/event-stream"

    def __init__(self, feed: LiveFeed, ticket: Ticket, seconds: float = STREAM_SECONDS) -> None:
        """A stream for `ticket` from `feed`, ended after `seconds`."""
        self.feed, self.ticket, self.seconds = feed, ticket, seconds
        self.status_code = 200
        self.background = None
        self.init_headers(HEADERS)  # no body: no Content-Length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open the feed for the page, then write its frames until one side ends."""
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        deliver = partial(hand_over, asyncio.get_running_loop(), inbox)
        try:
            opening = await run_in_threadpool(self.feed.open, self.ticket, deliver)
        except PushUnavailableError:
            refusal = PlainTextResponse(UNAVAILABLE, 503, headers={"Cache-Control": "no-store"})
            await refusal(scope, receive, send)
            return
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:
                group.start_soon(cancel_on_disconnect, receive, group.cancel_scope)
                await self.write(send, opening.first, inbox)
                group.cancel_scope.cancel()
        finally:
            self.feed.close(opening.subscriber)

    async def write(self, send: Send, first: str, inbox: asyncio.Queue[str | None]) -> None:
        """The first frame, then each handed over, keep-alives between; then the end."""
        await send_text(send, first)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                text = await asyncio.wait_for(inbox.get(), min(KEEP_ALIVE_SECONDS, remaining))
            except asyncio.TimeoutError:
                text = KEEP_ALIVE if loop.time() < deadline else RECONNECT
            if text is None:
                break
            await send_text(send, text)
            if text == RECONNECT:
                break
        else:
            await send_text(send, RECONNECT)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def send_text(send: Send, text: str) -> None:
    """Write part of the stream."""
    await send({"type": "http.response.body", "body": text.encode("utf-8"), "more_body": True})


async def cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """Stop writing once the page has gone."""
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


Inbox = asyncio.Queue[str | None]


def hand_over(loop: asyncio.AbstractEventLoop, inbox: Inbox, text: str | None) -> bool:
    """Give a page a frame from the feed's thread; False when the page's loop has closed."""
    try:
        loop.call_soon_threadsafe(put, inbox, text)
    except RuntimeError:
        return False
    return True


def put(inbox: Inbox, text: str | None) -> None:
    """Queue a frame; a page too far behind is asked to reconnect (and catch up) instead."""
    if inbox.qsize() < INBOX_LIMIT:
        inbox.put_nowait(text)
        return
    while not inbox.empty():
        inbox.get_nowait()
    inbox.put_nowait(RECONNECT)
