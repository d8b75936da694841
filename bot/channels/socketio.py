"""Rasa's Socket.IO input channel with the session's room really joined."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint


class SocketIOInput(RasaSocketIOInput):
    """Rasa 3.6 calls `sio.enter_room()` without `await` (RasaHQ/rasa#13027).

    With python-socketio >= 5.10 the socket then never joins its session's room and no reply
    reaches the browser. This re-registers `session_request` with the await; the rest is Rasa's.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with a `session_request` handler that awaits the room join."""
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: str, data: dict | None) -> None:
            """Join the session's room, then confirm the session id to the client."""
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace)
            await sio.emit(
                "session_confirm", data["session_id"], room=sid, namespace=self.namespace
            )

        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
