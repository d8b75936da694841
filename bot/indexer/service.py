"""`python -m bot run-indexer`: the index consumer process, its schedule and its health check."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Protocol

from sqlalchemy import inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.health import serve_health
from bot.core.settings import Settings, get_settings
from bot.db.reviews import ConversationIndex, ConversationIntent, IndexCheckpoint
from bot.db.session import make_engine
from bot.indexer import RECONCILE_EVERY
from bot.indexer.database import IndexDatabase, pause
from bot.indexer.events_table import EventsTableFeed
from bot.indexer.figures import Figures
from bot.indexer.rabbitmq import BrokerConfigError, RabbitFeed

log = logging.getLogger("bot.indexer")

LOG_EVERY = 60.0  # seconds between progress lines (counts only)
TABLES = tuple(m.__tablename__ for m in (ConversationIndex, ConversationIntent, IndexCheckpoint))


class ConfigError(Exception):
    """A setting the consumer cannot work with; the process exits with status 2."""


class Feed(Protocol):
    """A source of events: the events table or RabbitMQ."""

    name: str

    async def start(self, stop: asyncio.Event) -> None:
        """Connect (retrying while the source is away)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Apply events until `stop`."""

    async def close(self) -> None:
        """Let go of the source."""


def check_schema(session: Session) -> None:
    """Refuse a database without the index tables (migrations not applied)."""
    missing = [t for t in TABLES if not inspect(session.connection()).has_table(t)]
    if missing:
        raise ConfigError(
            f"the database lacks {', '.join(missing)}: run `python -m bot db upgrade` first"
        )


def index_database(url: str, source: str) -> IndexDatabase:
    """The index database at `url` fed by `source`; SQLite gets a reader taking no write lock."""
    try:
        writer = make_engine(url)
        reader = make_engine(url, immediate=False) if writer.dialect.name == "sqlite" else writer
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ConfigError(f"DATABASE_URL is not usable: {error}") from error
    sessions = sessionmaker(bind=writer, future=True, expire_on_commit=False)
    readers = sessionmaker(bind=reader, future=True, expire_on_commit=False)
    return IndexDatabase(sessions, Figures(source=source), reader=readers)


def make_feed(settings: Settings, database: IndexDatabase) -> Feed:
    """RabbitMQ when RABBITMQ_URL is set (production), else the events table (embedded)."""
    if not settings.rabbitmq_url:
        return EventsTableFeed(database)
    try:
        return RabbitFeed(settings.rabbitmq_url, settings.event_queue, database)
    except BrokerConfigError as error:
        raise ConfigError(str(error)) from error


class Indexer:
    """Start-up reconciliation, then the feed and periodic reconciliation side by side."""

    def __init__(
        self, database: IndexDatabase, feed: Feed, reconcile_every: float = RECONCILE_EVERY
    ) -> None:
        """Apply `feed` to `database`, reconciling every `reconcile_every` seconds."""
        self.database = database
        self.figures = database.figures
        self.feed = feed
        self.reconcile_every = reconcile_every

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set (or a task fails: the others are stopped, the error raised)."""
        await self.database.run_until_done(check_schema, stop)
        try:
            await self.feed.start(stop)
        except BrokerConfigError as error:
            raise ConfigError(str(error)) from error
        try:
            await self.database.reconcile(stop)
            tasks = [
                asyncio.create_task(self.feed.run(stop)),
                asyncio.create_task(self.reconcile_forever(stop)),
                asyncio.create_task(self.log_forever(stop)),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                task.result()
        finally:
            await self.feed.close()
            self.database.dispose()

    async def reconcile_forever(self, stop: asyncio.Event) -> None:
        """Reconcile every `reconcile_every` seconds."""
        while not stop.is_set():
            await pause(stop, self.reconcile_every)
            if not stop.is_set():
                await self.database.reconcile(stop)

    async def log_forever(self, stop: asyncio.Event) -> None:
        """A line of counts every LOG_EVERY seconds when something happened."""
        last = ""
        while not stop.is_set():
            await pause(stop, LOG_EVERY)
            line = self.figures.summary()
            if line != last and not stop.is_set():
                log.info("indexer: %s", line)
                last = line

    def health(self) -> dict:
        """GET /health: the figures; 503 while the source or the database is unreachable."""
        self.database.ping()
        if self.figures.source == EventsTableFeed.name:
            self.figures.source_ok = self.figures.database_ok
        return self.figures.health()


def build(settings: Settings, reconcile_every: float = RECONCILE_EVERY) -> Indexer:
    """The consumer the settings describe."""
    source = RabbitFeed.name if settings.rabbitmq_url else EventsTableFeed.name
    database = index_database(settings.database_url, source)
    return Indexer(database, make_feed(settings, database), reconcile_every)


async def serve(indexer: Indexer) -> None:
    """Run `indexer` until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    await indexer.run(stop)


def main(reconcile_every: float = RECONCILE_EVERY) -> int:
    """Run the consumer on the settings; 2 with a message on stderr for bad configuration."""
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("aio_pika").setLevel(max(logging.WARNING, logging.root.level))
    logging.getLogger("aiormq").setLevel(max(logging.WARNING, logging.root.level))
    try:
        indexer = build(settings, reconcile_every)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        serve_health(settings.indexer_health_port, indexer.health)
    except OSError as error:
        log.error(
            "health endpoint not served on port %d: %s",
            settings.indexer_health_port,
            error.strerror,
        )
    log.info("index consumer started (source: %s)", indexer.feed.name)
    try:
        asyncio.run(serve(indexer))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    log.info("index consumer stopped: %s", indexer.figures.summary())
    return 0
