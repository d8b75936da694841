"""Telegram updates accepted once across processes by the database ledger (SQLite, PostgreSQL)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.db.models import utcnow
from bot.rasa.channels.telegram_ledger import KEEP, UPDATES, UpdateLedger


@pytest.fixture
def ledgers(migrated_url: str) -> Iterator[tuple[UpdateLedger, UpdateLedger]]:
    """Two ledgers on one database, as two Rasa processes hold them."""
    made = (UpdateLedger(migrated_url), UpdateLedger(migrated_url))
    yield made
    for ledger in made:
        ledger.engine.dispose()


def add_row(ledger: UpdateLedger, update_id: int, chat_id: int, age: timedelta) -> None:
    """An update accepted `age` ago."""
    with ledger.engine.begin() as connection:
        connection.execute(
            UPDATES.insert().values(
                update_id=update_id, chat_id=chat_id, received_at=utcnow() - age
            )
        )


def test_an_update_is_accepted_by_one_process_only(ledgers) -> None:
    first, second = ledgers
    assert first.accept(101, 7) is True
    assert second.accept(101, 7) is False
    assert first.accept(101, 7) is False
    assert second.accept(102, 7) is True


def test_simultaneous_deliveries_are_accepted_once(ledgers) -> None:
    """Eight deliveries of each update at once, through two processes: one acceptance each."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: (i % 5, ledgers[i % 2].accept(200 + i % 5, 8)), range(40))
        )
    accepted = sorted(update for update, first in results if first)
    assert accepted == [0, 1, 2, 3, 4]


def test_old_updates_are_pruned(ledgers) -> None:
    first, _ = ledgers
    add_row(first, 401, 11, KEEP + timedelta(hours=1))
    add_row(first, 402, 11, timedelta(hours=1))
    assert first.prune() == 1
    with first.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(UPDATES)).scalar() == 1
    assert first.accept(401, 11) is True  # gone from the ledger: a new delivery counts again


def test_a_database_that_cannot_record_raises(tmp_path) -> None:
    """No silent acceptance: the webhook answers with an error and Telegram sends it again."""
    ledger = UpdateLedger(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    with pytest.raises(SQLAlchemyError):
        ledger.accept(501, 12)
    ledger.engine.dispose()
