"""One conversation as the team reaches it through Rasa's token-protected HTTP API.

Every call goes to RASA_URL (any worker or replica: Rasa takes the conversation's lock, and the
channels deliver to the visitor wherever their connection is). Bot events sent here carry
`metadata.handoff` so channels can show who wrote them and transcripts can tell staff from bot.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from bot.core.settings import Settings, get_settings

TIMEOUT = httpx.Timeout(15.0, connect=3.0)


class ConversationUnavailableError(Exception):
    """Rasa could not be reached or refused the change; nothing reached the visitor."""


def staff_event(text: str, kind: str, staff_name: str, staff_id: int | None) -> dict[str, Any]:
    """A bot event spoken on behalf of the team (kind: staff_message, joined, handed_back)."""
    handoff = {"kind": kind, "staff_name": staff_name, "staff_id": staff_id}
    return {
        "event": "bot",
        "text": text,
        "timestamp": time.time(),
        "metadata": {"handoff": handoff},
    }


class Conversation:
    """Pause, resume, speak into and run actions in one Rasa conversation."""

    def __init__(
        self,
        conversation_id: str,
        settings: Settings | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        """Address `conversation_id` on RASA_URL with RASA_API_TOKEN."""
        self.settings = settings or get_settings()
        self.conversation_id = conversation_id
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def url(self, tail: str) -> str:
        """The API address of this conversation's `tail` (events, execute)."""
        conversation = quote(self.conversation_id, safe="")
        return f"{self.settings.rasa_api_url}/conversations/{conversation}/{tail}"

    def params(self) -> dict[str, str]:
        """Token, reply through the visitor's latest channel, return no tracker."""
        return {
            "token": self.settings.rasa_api_token,
            "output_channel": "latest",
            "execute_side_effects": "true",
            "include_events": "NONE",
        }

    def post(self, tail: str, body: Any) -> None:
        """POST `body` to `tail`; ConversationUnavailableError when Rasa is away or refuses."""
        try:
            response = self.client.post(self.url(tail), params=self.params(), json=body)
        except httpx.HTTPError as error:
            raise ConversationUnavailableError(
                f"the assistant is not reachable ({type(error).__name__})"
            ) from error
        if response.status_code >= 400:
            raise ConversationUnavailableError(
                f"the assistant refused the change (HTTP {response.status_code})"
            )

    def append(self, *events: dict[str, Any]) -> None:
        """Append events in one locked step; bot events are delivered to the visitor."""
        self.post("tracker/events", list(events))

    def pause(self, notice: dict[str, Any]) -> None:
        """Stop the bot from answering, then tell the visitor who joined."""
        self.append({"event": "pause", "timestamp": time.time()}, notice)

    def say(self, message: dict[str, Any]) -> None:
        """Deliver one staff message to the visitor."""
        self.append(message)

    def resume(self, notice: dict[str, Any] | None = None) -> None:
        """Let the bot answer again (after an optional notice to the visitor)."""
        events = [notice] if notice else []
        self.append(*events, {"event": "resume", "timestamp": time.time()})

    def run_action(self, name: str) -> None:
        """Run one of the assistant's actions now; its replies go to the visitor."""
        self.post("execute", {"name": name})

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
