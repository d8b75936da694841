"""A stand-in for Rasa's HTTP API as the staff app's live takeover uses it.

The staff app talks through the real `bot.handoff.conversation.Conversation` (httpx); only the
transport is swapped (`httpx.MockTransport`). Like Rasa's server, the stand-in checks the token,
turns the posted JSON into Rasa's own event objects (`Event.from_parameters`), appends them
through Rasa's own `SQLTrackerStore` to the test database's `events` table, and delivers the bot
events to the visitor's channel (`output_channel=latest`): `delivered` is what the visitor would
be sent. `POST .../execute` logs the action and the reply the action server gives.
`unreachable` opens conversations on a port nobody listens on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
from rasa.shared.core.events import ActionExecuted, BotUttered, Event
from sqlalchemy.orm import Session

from bot.core.settings import Settings
from bot.db.session import make_engine
from bot.handoff import notices, state
from bot.handoff.conversation import Conversation
from tests.support.conversations import Script, greeting, write_conversation
from tests.support.servers import free_port

TOKEN = "stand-in-token-0123456789abcdef"
BASE_URL = "http://rasa.stand-in:5005"
PATH = re.compile(r"^/conversations/(?P<id>[^/]+)/(?P<tail>tracker/events|execute)$")
# What actions/handoff.py's ActionHandback says when nothing is booked yet.
HANDBACK_REPLY = (
    "If you'd like to keep talking with a navigator, the free 15-minute intro call is the next "
    "step. Is there anything else I can help with?"
)


@dataclass
class Delivered:
    """A bot message Rasa sent to the visitor's channel."""

    conversation_id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class RasaStandIn:
    """Rasa's conversation API on the test database (see the module docstring)."""

    database_url: str
    delivered: list[Delivered] = field(default_factory=list)
    executed: list[tuple[str, str]] = field(default_factory=list)  # (conversation, action)
    refuse_with: int | None = None  # answer every request with this HTTP status

    @property
    def settings(self) -> Settings:
        """The settings a staff app uses to reach this Rasa."""
        return Settings(rasa_url=BASE_URL, rasa_api_token=TOKEN, database_url=self.database_url)

    def open(self, conversation_id: str) -> Conversation:
        """The app's `open_conversation`: a real Conversation over this stand-in."""
        client = httpx.Client(transport=httpx.MockTransport(self.handle))
        return Conversation(conversation_id, self.settings, client)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one API request the way Rasa's server does."""
        if self.refuse_with:
            return httpx.Response(self.refuse_with, json={"status": "failure"})
        if request.url.params.get("token") != TOKEN:
            return httpx.Response(401, json={"status": "failure", "reason": "NotAuthenticated"})
        match = PATH.match(request.url.raw_path.decode("ascii").split("?", 1)[0])
        if request.method != "POST" or match is None:
            return httpx.Response(404, json={"status": "failure"})
        conversation_id, body = unquote(match["id"]), json.loads(request.content)
        if match["tail"] == "execute":
            events = self.run_action(conversation_id, body["name"])
        else:
            events = [Event.from_parameters(raw) for raw in body]
        write_conversation(self.database_url, conversation_id, events)
        if request.url.params.get("output_channel") == "latest":
            self.deliver(conversation_id, events)
        return httpx.Response(200, json={"sender_id": conversation_id})

    def run_action(self, conversation_id: str, name: str) -> list[Event]:
        """The events Rasa logs for an executed action: the action, then its reply."""
        self.executed.append((conversation_id, name))
        return [ActionExecuted(name), BotUttered(HANDBACK_REPLY, metadata={})]

    def deliver(self, conversation_id: str, events: list[Event]) -> None:
        """Send the bot events to the visitor's channel."""
        for event in events:
            if isinstance(event, BotUttered):
                self.delivered.append(Delivered(conversation_id, event.text, event.metadata))

    def delivered_to(self, conversation_id: str) -> list[str]:
        """The texts the visitor of one conversation was sent, in order."""
        return [d.text for d in self.delivered if d.conversation_id == conversation_id]


def unreachable(conversation_id: str) -> Conversation:
    """A Conversation on a Rasa address nobody listens on (connection refused)."""
    settings = Settings(rasa_url=f"http://127.0.0.1:{free_port()}", rasa_api_token=TOKEN)
    return Conversation(conversation_id, settings)


def visitor_says(
    database_url: str,
    conversation_id: str,
    text: str,
    at: datetime,
    *,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    channel: str = "socketio",
) -> None:
    """A visitor message as Rasa logs it (a `user` event with its parse data) at `at`."""
    script = Script(at - timedelta(seconds=1), channel, step=1.0)
    script.user(text, intent, 0.99, entities or [])
    write_conversation(database_url, conversation_id, script.events)


def waiting_visitor(database_url: str, conversation_id: str, now: datetime) -> str:
    """A website visitor who asked for a person two minutes before `now`: a waiting request."""
    script = greeting(Script(now - timedelta(minutes=3), "socketio"))
    script.user("can I talk to a real person?", "request_human", 0.96)
    script.action("action_request_human")
    for text in notices.requested(5):
        script.say(text)
    script.slots(human_requested=True).listen()
    write_conversation(database_url, conversation_id, script.events)
    engine = make_engine(database_url)
    try:
        with Session(engine, future=True) as session:
            state.request(session, conversation_id, "socketio", now=now - timedelta(minutes=2))
            session.commit()
    finally:
        engine.dispose()
    return conversation_id
