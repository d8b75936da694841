"""Rasa's Socket.IO input channel: sessions bound to the browser, replies that reach any worker.

- The server issues each session: `session_request` {session_id, session_token, request} joins
  that session only when the token is the one issued for it (`bot.rasa.channels.session_tokens`);
  anything else gets a new session. `session_confirm` answers {session_id, session_token,
  request}. A message is handled in the session recorded for its socket, never the one named in
  its payload. The handler returns (and the client's ack fires) once the message is handled.
- The server's client manager (`bot.rasa.channels.socketio_bus`) carries an emit to a room whose
  socket is in another worker process or replica.
- Replies whose metadata has a `handoff` entry (a navigator's message through the HTTP API)
  carry `staff_name` and `handoff_kind` to the widget.
- A reply from a bot event (BotUttered.message()) carries the event's server `timestamp` and
  `part`, its place among the messages that one event makes (a text split at blank lines, then
  its image, attachment or elements); say_try_again's notice has neither. A browser
  rejoining its session (valid token) with `last_seen`, the newest timestamp it has shown, gets
  on that socket alone the bot messages of the conversation newer than that (the newest
  CATCH_UP_LIMIT, oldest first), as they were sent: what a navigator said while it was away.
"""

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic
from socketio import AsyncManager, AsyncServer

from bot.conversations import speaker
from bot.rasa.channels import session_tokens
from bot.rasa.channels.socketio_bus import client_manager
from bot.rasa.runtime.pooled_http import close_sessions

log = logging.getLogger(__name__)

SESSION_KEY = "session_id"
MAX_REQUEST_NUMBER = 2**53 - 1  # what a browser counts exactly
CATCH_UP_LIMIT = 50  # bot messages sent again to a rejoining browser, at most
CLOCK_SLACK_SECONDS = 60.0  # a `last_seen` this far ahead (another replica's clock) still counts
MAX_TIMESTAMP = 1e12  # seconds since the epoch; anything beyond is no clock reading


def staff_fields(message: dict[str, Any]) -> dict[str, str]:
    """`staff_name` and `handoff_kind` of a reply with a `handoff` entry in its metadata."""
    fields: dict[str, str] = {}
    if kind := speaker.kind_of(message):
        fields["handoff_kind"] = kind
    if name := speaker.named(message):
        fields["staff_name"] = name
    return fields


def time_fields(message: dict[str, Any]) -> dict[str, float]:
    """`timestamp` of the event a reply comes from (BotUttered.message() has it), if usable."""
    value = message.get("timestamp")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return {}
    return {"timestamp": float(value)} if 0 <= value <= MAX_TIMESTAMP else {}


class WidgetOutput(SocketIOOutput):
    """Rasa's Socket.IO output; replies carry their event's time, a team's the navigator's name."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, extra: dict | None = None) -> None:
        """Emit `bot_message_evt` through `sio`, each message with the `extra` fields."""
        super().__init__(sio, bot_message_evt)
        self.extra = extra or {}
        self.parts = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa's send_response, through a copy carrying the reply's own fields."""
        extra = {**staff_fields(message), **time_fields(message)}
        if not extra:
            return await super().send_response(recipient_id, message)
        labelled = WidgetOutput(self.sio, self.bot_message_evt, {**self.extra, **extra})
        await OutputChannel.send_response(labelled, recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        """Emit one message with the extra fields and, with a timestamp, its part number."""
        fields = dict(self.extra)
        if "timestamp" in fields:
            fields["part"], self.parts = self.parts, self.parts + 1
        await super()._send_message(socket_id, {**response, **fields})


def use_manager(sio: AsyncServer, manager: AsyncManager) -> None:
    """Give a server that has not served yet a client manager, as its constructor would."""
    if sio.manager_initialized:
        raise RuntimeError("the Socket.IO server already started its client manager")
    sio.manager = manager
    manager.set_server(sio)


def request_number(data: dict[str, Any]) -> int | None:
    """The client's number for this session request, echoed in the confirmation."""
    value = data.get("request")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 0 <= value <= MAX_REQUEST_NUMBER else None


def last_seen_of(data: dict[str, Any], now: float) -> float | None:
    """The newest server timestamp the browser has shown, if it is a plausible one."""
    value = data.get("last_seen")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    plausible = 0 <= value <= now + CLOCK_SLACK_SECONDS  # false for NaN and the infinities
    return float(value) if plausible else None


def missed(events: Iterable[Event], last_seen: float) -> list[BotUttered]:
    """The bot messages newer than `last_seen`: the newest CATCH_UP_LIMIT, oldest first."""
    newer = [e for e in events if isinstance(e, BotUttered) and e.timestamp > last_seen]
    return newer[-CATCH_UP_LIMIT:]


def refusal(session_id: str | None, data: dict[str, Any]) -> str | None:
    """Why a message cannot be handled for a socket in `session_id`, or None."""
    if session_id is None:
        return "no_session"
    if data.get("session_id") not in (None, "", session_id):
        return "wrong_session"
    if not isinstance(data.get("message", ""), str):
        return "bad_message"
    return None


class SocketIOInput(RasaSocketIOInput):
    """Rasa's channel with server-issued sessions, a cross-process bus and staff labels.

    Rasa 3.6 also calls `sio.enter_room()` without `await` (RasaHQ/rasa#13027): with
    python-socketio >= 5.10 the socket never joins its room. The handlers here await it.
    """

    on_new_message: Callable[[UserMessage], Awaitable[Any]]
    app: Sanic | None = None  # the server's app, once it starts: its agent reads conversations

    def get_output_channel(self) -> OutputChannel | None:
        """The output for events sent through the HTTP API (None before the blueprint)."""
        if self.sio is None:
            return super().get_output_channel()
        return WidgetOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with the bus and this channel's session and message handlers."""
        blueprint = super().blueprint(on_new_message)
        assert self.sio is not None
        use_manager(self.sio, client_manager())
        blueprint.listener("before_server_start")(self.remember_app)
        blueprint.listener("after_server_stop")(close_sessions)  # the action server's sessions
        if self.session_persistence:  # without it the sender is the socket id: already private
            self.on_new_message = on_new_message
            self.sio.on("session_request", self.session_request, namespace=self.namespace)
            self.sio.on(self.user_message_evt, self.user_uttered, namespace=self.namespace)
        return blueprint

    async def remember_app(self, app: Sanic, _loop: Any = None) -> None:
        """Keep the app (a listener of the blueprint, run in every worker)."""
        self.app = app

    async def session_request(self, sid: str, data: Any = None) -> None:
        """Join the session the browser holds a token for, else a new one; confirm it.

        A browser back in its own session with `last_seen` is then caught up.
        """
        data = data if isinstance(data, dict) else {}
        session_id, token = data.get("session_id"), data.get("session_token")
        rejoined = session_tokens.verify(session_id, token)
        if not rejoined:
            session_id = uuid.uuid4().hex
            token = session_tokens.issue(session_id)
        await self.join(sid, session_id)
        confirm: dict[str, Any] = {"session_id": session_id, "session_token": token}
        if (number := request_number(data)) is not None:
            confirm["request"] = number
        await self.sio.emit("session_confirm", confirm, to=sid, namespace=self.namespace)
        last_seen = last_seen_of(data, time.time())
        if rejoined and last_seen is not None:
            await self.catch_up(sid, session_id, last_seen)

    async def catch_up(self, sid: str, session_id: str, last_seen: float) -> None:
        """Send the socket alone the session's bot messages newer than `last_seen`, again."""
        tracker = await self.stored_tracker(session_id)
        replies = missed(tracker.events, last_seen) if tracker is not None else []
        output = WidgetOutput(self.sio, self.bot_message_evt)
        for event in replies:
            await output.send_response(sid, event.message())
        if replies:
            log.info("socket.io catch-up: %d bot messages sent again", len(replies))

    async def stored_tracker(self, session_id: str) -> DialogueStateTracker | None:
        """The conversation as stored; None without one (or an agent, or a database)."""
        agent = getattr(self.app.ctx, "agent", None) if self.app is not None else None
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return None
        try:
            return await store.retrieve(session_id)
        except Exception as error:  # the browser is just not caught up; its type, never data
            log.warning("socket.io catch-up skipped (%s)", type(error).__name__)
            return None

    async def join(self, sid: str, session_id: str) -> None:
        """Move the socket into the session's room and record the session for it."""
        current = await self.session_of(sid)
        if current and current != session_id:
            await self.sio.leave_room(sid, current, namespace=self.namespace)
        await self.sio.enter_room(sid, session_id, namespace=self.namespace)
        await self.sio.save_session(sid, {SESSION_KEY: session_id}, namespace=self.namespace)

    async def session_of(self, sid: str) -> str | None:
        """The session confirmed for the socket, or None."""
        try:
            session = await self.sio.get_session(sid, namespace=self.namespace)
        except KeyError:  # the socket is gone
            return None
        value = session.get(SESSION_KEY)
        return value if isinstance(value, str) else None

    async def user_uttered(self, sid: str, data: Any = None) -> dict[str, str] | None:
        """Handle a visitor message in the socket's session; the ack says why when refused."""
        data = data if isinstance(data, dict) else {}
        session_id = await self.session_of(sid)
        reason = refusal(session_id, data)
        if reason or session_id is None:
            log.info("socket.io message refused: %s", reason)
            return {"error": reason or "no_session"}
        output = WidgetOutput(self.sio, self.bot_message_evt)
        await self.on_new_message(
            UserMessage(
                data.get("message", ""),
                output,
                session_id,
                input_channel=self.name(),
                metadata=self.metadata_of(data),
            )
        )
        return None

    def metadata_of(self, data: dict[str, Any]) -> dict[str, Any]:
        """The message's metadata as Rasa reads it (a dict, or a JSON string of one)."""
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        return metadata if isinstance(metadata, dict) else {}
