"""Telegram updates shared by every Rasa worker through the project database.

With several Rasa workers, two deliveries of one update (Telegram sends an update again when it
misses our answer) or two quick messages from one chat can reach different processes. Each
worker claims an update before handling it, so only one does; and an update waits until the
chat's earlier updates are handled, so a chat's messages reach Rasa in the order sent.
"""

import asyncio
import logging
from datetime import timedelta
from time import monotonic

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.db.models import utcnow
from bot.db.session import make_engine
from bot.db.telegram import TelegramUpdate
from bot.settings import get_settings

logger = logging.getLogger(__name__)

UPDATES = TelegramUpdate.__table__
WAIT_STEP = 0.05  # seconds between looks at the chat's earlier updates
WAIT_LIMIT = timedelta(seconds=30)  # an update whose worker died holds its chat no longer
KEEP = timedelta(days=2)  # Telegram gives up re-sending an update long before this
PRUNE_EVERY = 500  # claims between deletions of old rows


class UpdateLedger:
    """Claims, turns and completion of Telegram updates in the `telegram_updates` table."""

    def __init__(self, url: str | None = None) -> None:
        """Use `url` (default: DATABASE_URL)."""
        self.engine = make_engine(url or get_settings().database_url, immediate=False)
        self._claims = 0

    def claim(self, update_id: int, chat_id: int) -> bool:
        """Record a received update; False if a worker already has it.

        If the database cannot be reached the update is handled anyway: a rare duplicate
        reply is better than a message that is never answered.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    UPDATES.insert().values(
                        update_id=update_id, chat_id=chat_id, received_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        except SQLAlchemyError as error:
            database_trouble(update_id, "not recorded", error)
            return True
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self.prune()
        return True

    def earlier_pending(self, update_id: int, chat_id: int) -> bool:
        """Whether an earlier update of the chat, received recently, is still being handled."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(UPDATES.c.update_id)
                .where(
                    UPDATES.c.chat_id == chat_id,
                    UPDATES.c.update_id < update_id,
                    UPDATES.c.finished_at.is_(None),
                    UPDATES.c.received_at > utcnow() - WAIT_LIMIT,
                )
                .limit(1)
            ).first()
        return row is not None

    async def wait_turn(self, update_id: int, chat_id: int, step: float = WAIT_STEP) -> bool:
        """Wait until the chat's earlier updates are handled: True, or False after the limit."""
        deadline = monotonic() + WAIT_LIMIT.total_seconds()
        try:
            while self.earlier_pending(update_id, chat_id):
                if monotonic() >= deadline:
                    return False
                await asyncio.sleep(step)
        except SQLAlchemyError as error:
            database_trouble(update_id, "order unknown", error)
        return True

    def finish(self, update_id: int) -> None:
        """Mark an update handled, letting the chat's next one go."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    UPDATES.update()
                    .where(UPDATES.c.update_id == update_id)
                    .values(finished_at=utcnow())
                )
        except SQLAlchemyError as error:
            database_trouble(update_id, "not marked done", error)

    def prune(self) -> int:
        """Delete updates received longer ago than Telegram would send them again."""
        old = UPDATES.c.received_at < utcnow() - KEEP
        with self.engine.begin() as connection:
            return connection.execute(delete(UPDATES).where(old)).rowcount or 0


def database_trouble(update_id: int, what: str, error: Exception) -> None:
    """Log a database failure around one update (ids and the error type only)."""
    logger.warning("Telegram update %s: %s (%s)", update_id, what, type(error).__name__)
