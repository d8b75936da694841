"""The production event source: Rasa's RabbitMQ event broker, read with manual acks.

Rasa's PikaEventBroker publishes every new tracker event as one persistent JSON message
(`{"sender_id": ..., "event": ..., "timestamp": ..., ...}`) to a fanout exchange (`rasa-exchange`)
bound to durable queues. This consumer declares the same exchange (as Rasa does: fanout, not
durable), the durable queue EVENT_QUEUE and the binding, so events published while it is down
wait in the queue. It takes up to BATCH messages (or what arrives within LINGER seconds), indexes
their conversations and only acks the messages after that transaction has committed. A crash in
between redelivers them; their rows are already current, so nothing is counted twice.

Rasa publishes an event just before its tracker store commits it (SQLTrackerStore.save streams
first, then writes; the publish task normally runs after the commit because the save does not
yield in between, but nothing guarantees that). A conversation whose announced event (by its
timestamp) is not stored yet is kept pending and re-read for GRACE seconds; an event whose save
failed never arrives, and the periodic reconciliation remains the backstop.

aio-pika's robust connection reconnects by itself after a RabbitMQ restart and restores the channel,
exchange, queue, binding and consumer. Deliveries of the old channel can no longer be acked:
RabbitMQ delivers them again, and they find their rows current.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlparse

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aiormq.exceptions import (
    AuthenticationError,
    ChannelAccessRefused,
    ChannelPreconditionFailed,
    ConnectionNotAllowed,
    ProbableAuthenticationError,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.indexer.database import IndexDatabase, pause
from bot.rasa.events import events_table

log = logging.getLogger("bot.indexer")

EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE
BATCH = 500  # messages per batch (one index transaction per 200 conversations)
LINGER = 0.05  # seconds to wait for more messages once one has arrived
IDLE = 1.0  # seconds to wait for a first message before looking at pending work
GRACE = 30.0  # seconds to keep re-reading a conversation whose announced event is not stored yet
RETRY = 2.0  # seconds between connection attempts (at start, and aio-pika's reconnects)
MEASURE_EVERY = 5.0  # seconds between looks at the queue's depth
RECHECK_EVERY = 0.5  # seconds between re-reads of pending conversations
REFUSALS = (  # RabbitMQ's answers to a wrong URL, user, virtual host or queue: not worth retrying
    AuthenticationError,
    ProbableAuthenticationError,
    ConnectionNotAllowed,
    ChannelAccessRefused,
    ChannelPreconditionFailed,
)


class BrokerConfigError(Exception):
    """RabbitMQ refuses the configured URL or credentials; retrying will not help."""


@dataclass(frozen=True)
class Notice:
    """What the consumer needs from one broker message: whose event, and its timestamp."""

    conversation_id: str
    at: float | None


def read_notice(body: bytes) -> Notice | None:
    """The notice in a message body, or None for a body that is not a Rasa event."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sender_id"), str):
        return None
    stamp = data.get("timestamp")
    at = float(stamp) if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else None
    return Notice(data["sender_id"], at)


def announced(notices: list[Notice]) -> dict[str, float | None]:
    """{conversation id: newest announced timestamp (None if none had one)}."""
    newest: dict[str, float | None] = {}
    for notice in notices:
        known = newest.get(notice.conversation_id)
        if notice.at is not None and (known is None or notice.at > known):
            newest[notice.conversation_id] = notice.at
        else:
            newest.setdefault(notice.conversation_id, known)
    return newest


def unseen(session: Session, announced_at: dict[str, float]) -> set[str]:
    """The conversations whose announced event is newer than anything stored for them yet."""
    if not announced_at:
        return set()
    stored = dict(
        session.execute(
            select(events_table.c.sender_id, func.max(events_table.c.timestamp))
            .where(events_table.c.sender_id.in_(list(announced_at)))
            .group_by(events_table.c.sender_id)
        ).all()
    )
    return {c for c, at in announced_at.items() if stored.get(c) is None or stored[c] < at}


def check_url(url: str) -> None:
    """Refuse a RABBITMQ_URL that cannot be an AMQP address."""
    parsed = urlparse(url)
    if parsed.scheme not in ("amqp", "amqps") or not parsed.hostname:
        raise BrokerConfigError("RABBITMQ_URL must look like amqp://user:password@host:5672/%2F")


class RabbitFeed:
    """Feeds the consumer from Rasa's RabbitMQ event broker."""

    name = "rabbitmq"

    def __init__(
        self,
        url: str,
        queue: str,
        database: IndexDatabase,
        *,
        exchange: str = EXCHANGE,
        batch: int = BATCH,
        grace: float = GRACE,
    ) -> None:
        """Read `queue` (bound to `exchange`) at `url` into `database`."""
        check_url(url)
        self.url, self.queue_name, self.exchange_name = url, queue, exchange
        self.database = database
        self.figures = database.figures
        self.batch = batch
        self.grace = grace
        self.inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self.pending: dict[str, tuple[float, float]] = {}  # conversation: (announced at, until)
        self.connection: AbstractRobustConnection | None = None
        self.queue: AbstractQueue | None = None
        self.stale_acks = 0  # deliveries of a channel lost before their ack: RabbitMQ resends
        self._measured = 0.0
        self._rechecked = 0.0

    async def start(self, stop: asyncio.Event) -> None:
        """Connect, declare and start consuming; retries until RabbitMQ answers or `stop`."""
        warned = False
        while not stop.is_set():
            try:
                await self.connect()
            except REFUSALS as error:
                problem = f"RabbitMQ refused RABBITMQ_URL or EVENT_QUEUE ({type(error).__name__})"
                raise BrokerConfigError(problem) from error
            except (OSError, aio_pika.exceptions.AMQPConnectionError) as error:
                self.figures.source_ok = False
                if not warned:
                    log.warning("RabbitMQ unreachable (%s); retrying", type(error).__name__)
                    warned = True
                await pause(stop, RETRY)
                continue
            self.figures.source_ok = True
            log.info("consuming RabbitMQ queue %s", self.queue_name)
            return

    async def connect(self) -> None:
        """Open a robust connection, declare Rasa's exchange, the queue and its binding, consume."""
        connection = await aio_pika.connect_robust(self.url, reconnect_interval=RETRY)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.batch * 2)
            exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.FANOUT
            )
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.bind(exchange, "")
            await queue.consume(self.inbox.put)
        except BaseException:
            await connection.close()
            raise
        self.connection, self.queue = connection, queue

    async def run(self, stop: asyncio.Event) -> None:
        """Batch after batch until `stop`, re-reading pending conversations in between."""
        while not stop.is_set():
            messages = await self.next_batch()
            if messages:
                await self.handle(messages, stop)
            await self.recheck(stop)
            await self.measure()
            self.figures.beat()

    async def next_batch(self) -> list[AbstractIncomingMessage]:
        """The messages that arrive within IDLE seconds, then LINGER more (at most `batch`)."""
        try:
            batch = [await asyncio.wait_for(self.inbox.get(), timeout=IDLE)]
        except asyncio.TimeoutError:
            return []
        deadline = time.monotonic() + LINGER
        while len(batch) < self.batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and self.inbox.empty():
                break
            try:
                batch.append(await asyncio.wait_for(self.inbox.get(), timeout=max(remaining, 0)))
            except asyncio.TimeoutError:
                break
        return batch

    async def handle(self, messages: list[AbstractIncomingMessage], stop: asyncio.Event) -> None:
        """Index the conversations these messages name, then ack them (after the commit)."""
        notices = [notice for m in messages if (notice := read_notice(m.body)) is not None]
        if not await self.index(announced(notices), stop):
            return  # stopped before the commit: RabbitMQ delivers them again
        await self.ack(messages)
        self.figures.events += len(messages)
        self.figures.redelivered += sum(1 for m in messages if m.redelivered)

    async def index(
        self,
        newest: dict[str, float | None],
        stop: asyncio.Event,
        until: dict[str, float] | None = None,
    ) -> bool:
        """Index these conversations; those whose announced event is not stored yet wait.

        A waiting conversation is re-read until its deadline (`until`, default GRACE from now).
        """
        timed = {c: at for c, at in newest.items() if at is not None}
        waiting = await self.database.read_until_done(partial(unseen, announced_at=timed), stop)
        if waiting is None:
            return False
        await self.database.apply(newest, stop)
        if stop.is_set():
            return False
        deadline = time.monotonic() + self.grace
        for conversation_id in waiting:
            when = (until or {}).get(conversation_id, deadline)
            self.pending[conversation_id] = (timed[conversation_id], when)
        self.figures.pending = len(self.pending)
        return True

    async def recheck(self, stop: asyncio.Event) -> None:
        """Re-read pending conversations (every RECHECK_EVERY s); drop those past their deadline."""
        now = time.monotonic()
        if not self.pending or now - self._rechecked < RECHECK_EVERY:
            return
        self._rechecked = now
        due = {c: entry for c, entry in self.pending.items() if entry[1] >= now}
        self.figures.expired += len(self.pending) - len(due)
        self.pending.clear()
        if due:
            announced_at: dict[str, float | None] = {c: at for c, (at, _) in due.items()}
            await self.index(announced_at, stop, until={c: when for c, (_, when) in due.items()})
        self.figures.pending = len(self.pending)

    async def ack(self, messages: list[AbstractIncomingMessage]) -> None:
        """Ack each message; one whose channel has closed since is left to be redelivered."""
        for message in messages:
            try:
                await message.ack()
            except Exception:
                self.stale_acks += 1

    async def measure(self) -> None:
        """Every MEASURE_EVERY seconds: the queue's depth as the backlog, and the connection."""
        if self.connection is not None:
            self.figures.source_ok = self.connection.connected.is_set()
        if self.queue is None or time.monotonic() - self._measured < MEASURE_EVERY:
            return
        self._measured = time.monotonic()
        try:
            declared = await self.queue.declare(timeout=RETRY)
        except Exception:
            return  # disconnected: the robust connection is on it
        self.figures.backlog = (declared.message_count or 0) + self.inbox.qsize()

    async def close(self) -> None:
        """Close the connection (unacked deliveries go back to the queue)."""
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
