"""Soak visitors: whole conversations in words over REST or Socket.IO, retried on faults."""

import asyncio
import queue
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
import yaml

from bot.rasa.runtime.delivery import TRY_AGAIN

SCRIPTS = Path(__file__).resolve().parents[2] / "tests" / "e2e" / "conversations_in_words.yml"
QUESTIONS = ("scope", "decisions", "need", "support")
REFERENCE = re.compile(r"\bPR-[A-Z0-9]{4,}\b")
REPLY_TIMEOUT = 30.0  # seconds without a first reply before the message is sent again
SOCKET_REPLY_TIMEOUT = 15.0  # a message sent into a dying socket is sent again sooner
QUIET = 0.8  # Socket.IO: the reply is complete after this long without another message
MAX_ATTEMPTS = 8


class NoReplyError(Exception):
    """A message got no usable reply this time (error, silence or please-try-again)."""


@dataclass
class Sent:
    """One visitor message that got a real reply."""

    sender: str
    message_id: str
    started: float
    latency: float
    attempts: int


@dataclass
class Ledger:
    """Everything the visitors saw: successes, errors, bookings they were told about."""

    sent: list[Sent] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (time, kind)
    told_bookings: dict[str, str] = field(default_factory=dict)  # sender -> reference
    recommendations: list[bool] = field(default_factory=list)  # got the expected one
    senders: set[str] = field(default_factory=set)
    gave_up: int = 0  # messages that never got a reply after MAX_ATTEMPTS


def conversations() -> list[dict[str, Any]]:
    """The scripted in-words conversations (openings, answers, expected recommendation)."""
    return yaml.safe_load(SCRIPTS.read_text())["conversations"]


def text_of(replies: list[dict]) -> str:
    """All reply texts joined."""
    return " ".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict]) -> list[str]:
    """Every button payload offered."""
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


class RestClient:
    """A visitor over the REST channel (stateless: any replica can answer)."""

    kind = "rest"

    def __init__(self, http: aiohttp.ClientSession, base_url: str, sender: str) -> None:
        """Talk as `sender` to the Rasa frontend at `base_url`."""
        self.http, self.url, self.sender = http, f"{base_url}/webhooks/rest/webhook", sender

    async def open(self) -> None:
        """Nothing to open for REST."""

    async def close(self) -> None:
        """Nothing to close for REST."""

    async def exchange(self, text: str, message_id: str, metadata: dict) -> list[dict]:
        """Send one message; its replies."""
        body = {
            "sender": self.sender,
            "message": text,
            "metadata": {**metadata, "message_id": message_id},
        }
        timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT)
        try:
            async with self.http.post(self.url, json=body, timeout=timeout) as response:
                if response.status != 200:
                    raise NoReplyError(f"http {response.status}")
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise NoReplyError(type(error).__name__) from error


class SocketClient:
    """A visitor in the widget's protocol over Socket.IO (WebSocket), reconnecting like it.

    python-socketio's threaded client, driven from the event loop through a worker thread
    (its asyncio client needs a newer aiohttp than Rasa 3.6 allows).
    """

    kind = "socketio"

    def __init__(self, base_url: str, sender: str) -> None:
        """Talk to the Socket.IO endpoint at `base_url`; `sender` until the server names one."""
        self.url, self.sender, self.token = base_url, sender, ""
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2
        )
        self.inbox: queue.Queue[dict] = queue.Queue()
        self.joined = threading.Event()
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self.joined.clear)
        self.sio.on("session_confirm", self._on_confirm)
        self.sio.on("bot_uttered", self.inbox.put)

    def _on_connect(self) -> None:
        """(Re)join the session, with the token the server issued, on whichever replica answered."""
        self.sio.emit("session_request", {"session_id": self.sender, "session_token": self.token})

    def _on_confirm(self, confirm: dict) -> None:
        """Keep the session id and token the server issued (the same ones on a rejoin)."""
        self.sender, self.token = confirm["session_id"], confirm["session_token"]
        self.joined.set()

    async def open(self) -> None:
        """Connect with the WebSocket transport and join the session."""
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        """Blocking connect and join."""
        self.sio.connect(
            self.url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=10
        )
        if not self.joined.wait(REPLY_TIMEOUT):
            raise NoReplyError("no session confirmation")

    async def close(self) -> None:
        """Disconnect."""
        await asyncio.to_thread(self.sio.disconnect)

    async def exchange(self, text: str, message_id: str, metadata: dict) -> list[dict]:
        """Send one message; the replies that arrive until a quiet pause."""
        return await asyncio.to_thread(self._exchange, text, message_id, metadata)

    def _exchange(self, text: str, message_id: str, metadata: dict) -> list[dict]:
        """Blocking send and collect."""
        if not self.joined.wait(REPLY_TIMEOUT):
            raise NoReplyError("not reconnected")
        while not self.inbox.empty():
            self.inbox.get_nowait()  # late replies to an earlier attempt
        try:
            self.sio.emit(
                "user_uttered",
                {"message": text, "metadata": {**metadata, "message_id": message_id}},
            )
            replies = [self.inbox.get(timeout=SOCKET_REPLY_TIMEOUT)]
        except (queue.Empty, socketio.exceptions.SocketIOError) as error:
            raise NoReplyError("silence") from error
        while True:
            try:
                replies.append(self.inbox.get(timeout=QUIET))
            except queue.Empty:
                return replies


class Visitor:
    """One visitor: a scripted assessment in words, sometimes booking the call."""

    def __init__(
        self,
        client: RestClient | SocketClient,
        ledger: Ledger,
        rng: random.Random,
        think: tuple[float, float],
    ) -> None:
        """Drive `client`, recording into `ledger`."""
        self.client, self.ledger, self.rng, self.think = client, ledger, rng, think

    async def say(self, text: str, metadata: dict | None = None) -> list[dict]:
        """Send a message until it gets a real reply (same message id on every attempt)."""
        message_id = uuid.uuid4().hex
        started = time.monotonic()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            sent = time.monotonic()
            try:
                replies = await self.client.exchange(text, message_id, metadata or {})
                if not replies:
                    raise NoReplyError("empty reply")
                if TRY_AGAIN in text_of(replies):
                    raise NoReplyError("try again")
            except NoReplyError as error:
                self.ledger.errors.append((time.monotonic(), f"{self.client.kind}: {error}"))
                await asyncio.sleep(min(1.0 * attempt, 3.0))
                continue
            sender = self.client.sender
            self.ledger.sent.append(
                Sent(sender, message_id, started, time.monotonic() - sent, attempt)
            )
            return replies
        self.ledger.gave_up += 1
        raise NoReplyError("gave up")

    async def pause(self) -> None:
        """Think and type before the next message."""
        await asyncio.sleep(self.rng.uniform(*self.think))

    async def run(self, script: dict[str, Any], books: bool) -> None:
        """Open, answer the four questions in words, maybe book; then leave."""
        self.ledger.senders.add(self.client.sender)
        await self.client.open()
        try:
            replies: list[dict] = []
            for text in script["opening"]:
                replies = await self.say(text)
                await self.pause()
            for question in QUESTIONS:
                replies = await self.say(script["answers"][question]["text"])
                await self.pause()
            self.ledger.recommendations.append(
                script["expected"].replace("_", " ") in text_of(replies).lower()
                or "/book_call" in payloads(replies)
            )
            if books:
                await self.book()
        finally:
            await self.client.close()

    async def book(self) -> None:
        """Book the intro call through the lead form, taking the first offered time."""
        tz = {"timezone": "America/Chicago"}
        await self.say("/book_call", tz)
        for text in (
            "I'm Sam Rivera",
            f"it's sam.{self.client.sender[-8:]}@example.com",
            "a second opinion for my mum's surgery",
        ):
            await self.pause()
            await self.say(text)
        replies = await self.say("/affirm")
        for _ in range(4):  # a time taken meanwhile by another visitor is offered again
            choices = [p for p in payloads(replies) if "slot_choice" in p]
            if not choices:
                return
            await self.pause()
            replies = await self.say(choices[0])
            match = REFERENCE.search(text_of(replies))
            if match:
                self.ledger.told_bookings[self.client.sender] = match.group(0)
                return
