"""Telegram updates accepted exactly once by all Rasa processes, through the project database.

Telegram sends an update again when it misses our answer, and with several Rasa processes
(workers on one host, replicas on several) the deliveries can reach different ones. Before the
webhook answers, the receiving process records the update id: the primary key lets exactly one
insert succeed, so exactly one process handles the update. When the database cannot take the
record, the webhook answers with an error and Telegram delivers the update again later.

The ledger's calls block: the channel makes them in worker threads, each on its own connection.
"""

import logging
from datetime import timedelta
from itertools import count

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.core.settings import get_settings
from bot.db.models import utcnow
from bot.db.session import make_engine
from bot.db.telegram import TelegramUpdate

logger = logging.getLogger(__name__)

UPDATES = TelegramUpdate.__table__
KEEP = timedelta(days=2)  # Telegram gives up re-sending an update long before this
PRUNE_EVERY = 500  # acceptances between deletions of old rows


class UpdateLedger:
    """The `telegram_updates` table: which updates some process has accepted."""

    def __init__(self, url: str | None = None) -> None:
        """Use `url` (default: DATABASE_URL)."""
        self.engine = make_engine(url or get_settings().database_url, immediate=False)
        self._accepted = count(1)  # next() is atomic: acceptances may run in several threads

    def accept(self, update_id: int, chat_id: int) -> bool:
        """Record a received update: True on its first delivery, False on a repeat.

        Raises SQLAlchemyError when the database cannot record it.
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
        if next(self._accepted) % PRUNE_EVERY == 0:
            try:
                self.prune()
            except SQLAlchemyError as error:  # housekeeping only: the update stays accepted
                logger.warning("Telegram ledger: old updates not pruned (%s)", type(error).__name__)
        return True

    def prune(self) -> int:
        """Delete updates received longer ago than Telegram would send them again."""
        old = UPDATES.c.received_at < utcnow() - KEEP
        with self.engine.begin() as connection:
            return connection.execute(delete(UPDATES).where(old)).rowcount or 0
