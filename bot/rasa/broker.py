"""Rasa's RabbitMQ event broker, configured from the settings and silent about event contents.

`endpoints.cluster.yml` names this class. It is Rasa 3.6's PikaEventBroker with two changes:
- the address, credentials, virtual host and queue come from RABBITMQ_URL and EVENT_QUEUE (the
  one typed Settings), not from the endpoints file;
- a failed publish is logged with counts only: Rasa's own log line for it carries the event,
  visitor's message text included (`rasa_event=`), and no health data goes to the logs.

What Rasa's broker does when RabbitMQ is away (rasa/core/brokers/pika.py with aio-pika 8):
- At start it tries to connect `connection_attempts` times (20), `retry_delay_in_seconds` (5 s)
  apart, then raises, and the Rasa server does not start.
- Once connected it holds an aio-pika robust connection and publishes each event as a persistent
  message to a fanout exchange, waiting for the publisher confirm. While the connection is down,
  a publish fails at once and the event goes to an in-memory deque; when the robust connection is
  back (it retries every 5 s) the exchange, queue and binding are declared again and the deque is
  published. Events therefore survive a RabbitMQ restart only while the Rasa process lives: one
  that exits or is killed meanwhile loses them, and an event whose confirm was lost in the drop is
  published twice. The index consumer's reconciliation and watermark cover both (bot.indexer).
"""

from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from typing import Any
from urllib.parse import urlparse

from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.core.settings import get_settings

log = logging.getLogger("bot.rasa.broker")

TUNABLE = {  # endpoint keys passed on to PikaEventBroker; the address and queue come from settings
    "connection_attempts",
    "retry_delay_in_seconds",
    "should_keep_unpublished_messages",
    "raise_on_failure",
    "exchange_name",
}


def is_power_of_ten(number: int) -> bool:
    """1, 10, 100, ...: when to log a repeated failure."""
    return number > 0 and str(number).strip("0") == "1"


def broker_options(url: str, queue: str) -> dict[str, Any]:
    """PikaEventBroker's arguments for an AMQP URL and one queue."""
    parsed = urlparse(url)
    if parsed.scheme not in ("amqp", "amqps") or not parsed.hostname:
        raise ValueError("RABBITMQ_URL must look like amqp://user:password@host:5672/%2F")
    return {
        "host": url,  # Rasa builds its connection URL from this one, keeping the virtual host
        "username": parsed.username or "guest",  # as written in the URL, so Rasa finds it there
        "password": parsed.password or "guest",
        "port": parsed.port or (5671 if parsed.scheme == "amqps" else 5672),
        "queues": [queue],
    }


class ProjectPikaEventBroker(PikaEventBroker):
    """PikaEventBroker on RABBITMQ_URL and EVENT_QUEUE that never logs an event's contents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """PikaEventBroker's arguments; counts failed publishes for the log."""
        super().__init__(*args, **kwargs)
        self.failed_publishes = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: AbstractEventLoop | None = None,
    ) -> ProjectPikaEventBroker | None:
        """Connect with the settings' URL and queue (the endpoint may only tune retries)."""
        if broker_config is None:
            return None
        settings = get_settings()
        if not settings.rabbitmq_url:
            raise ValueError("the event broker needs RABBITMQ_URL (endpoints.cluster.yml)")
        tuning = {k: v for k, v in broker_config.kwargs.items() if k in TUNABLE}
        broker = cls(
            **broker_options(settings.rabbitmq_url, settings.event_queue),
            event_loop=event_loop,
            **tuning,
        )
        await broker.connect()
        return broker

    async def _publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Publish one event; on failure keep it for the reconnect and log counts only."""
        if self._exchange is None:
            self._unpublished_events.append(event)
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as error:
            if self.should_keep_unpublished_messages:
                self._unpublished_events.append(event)
            self.failed_publishes += 1
            if is_power_of_ten(self.failed_publishes):  # 1st, 10th, 100th...: a bounded log
                log.error(
                    "event broker: %d publish(es) failed (%s); %d event(s) kept until RabbitMQ "
                    "is back",
                    self.failed_publishes,
                    type(error).__name__,
                    len(self._unpublished_events),
                )
            if self.raise_on_failure:
                await self.close()
                raise

    def _publish_unpublished_messages(self, *args: Any, **kwargs: Any) -> None:
        """On reconnect: publish the kept events (counted in the log, never shown)."""
        if self._unpublished_events:
            log.warning(
                "event broker: RabbitMQ is back; publishing %d kept event(s)",
                len(self._unpublished_events),
            )
        super()._publish_unpublished_messages(*args, **kwargs)
