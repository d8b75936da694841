"""Telegram updates claimed once and taken in chat order across workers (SQLite, PostgreSQL)."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.channels.telegram_ledger import KEEP, UPDATES, WAIT_LIMIT, UpdateLedger
from bot.db.models import utcnow


@pytest.fixture
def ledgers(migrated_url: str) -> Iterator[tuple[UpdateLedger, UpdateLedger]]:
    """Two ledgers on one database, as two Rasa workers hold them."""
    made = (UpdateLedger(migrated_url), UpdateLedger(migrated_url))
    yield made
    for ledger in made:
        ledger.engine.dispose()


def add_row(ledger: UpdateLedger, update_id: int, chat_id: int, age: timedelta) -> None:
    """An unfinished update received `age` ago."""
    with ledger.engine.begin() as connection:
        connection.execute(UPDATES.insert().values(update_id=update_id, chat_id=chat_id,
                                                   received_at=utcnow() - age))  # fmt: skip


def test_an_update_is_claimed_by_one_worker_only(ledgers) -> None:
    first, second = ledgers
    assert first.claim(101, 7) is True
    assert second.claim(101, 7) is False
    assert first.claim(101, 7) is False
    assert second.claim(102, 7) is True


def test_a_later_update_waits_for_the_chats_earlier_one(ledgers) -> None:
    first, second = ledgers
    assert first.claim(201, 8) and second.claim(202, 8) and second.claim(203, 9)
    assert second.earlier_pending(202, 8) is True
    assert second.earlier_pending(203, 9) is False  # another chat is not held up
    assert first.earlier_pending(201, 8) is False

    async def scenario() -> float:
        async def finish_later() -> None:
            await asyncio.sleep(0.3)
            first.finish(201)

        started = time.monotonic()
        waited, _ = await asyncio.gather(second.wait_turn(202, 8, step=0.02), finish_later())
        assert waited is True
        return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.3
    assert second.earlier_pending(202, 8) is False


def test_an_update_left_open_by_a_dead_worker_stops_holding_its_chat(ledgers) -> None:
    first, second = ledgers
    add_row(first, 301, 10, WAIT_LIMIT + timedelta(seconds=1))
    assert second.claim(302, 10)
    assert second.earlier_pending(302, 10) is False


def test_old_updates_are_pruned(ledgers) -> None:
    first, _ = ledgers
    add_row(first, 401, 11, KEEP + timedelta(hours=1))
    add_row(first, 402, 11, timedelta(hours=1))
    assert first.prune() == 1
    with first.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(UPDATES)).scalar() == 1
    assert first.claim(401, 11) is True  # gone from the ledger: a new delivery counts again


def test_without_the_table_updates_are_still_handled(tmp_path) -> None:
    ledger = UpdateLedger(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    assert ledger.claim(501, 12) is True
    assert asyncio.run(ledger.wait_turn(502, 12)) is True
    ledger.finish(501)
    ledger.engine.dispose()
