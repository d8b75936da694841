"""Conversation locks in the project database, shared by several Rasa workers."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.lock_store import LockError
from sqlalchemy import func, select

from bot.db.locks import ConversationLock
from bot.rasa.runtime.lock_store import ProjectLockStore


def stored_locks(store: ProjectLockStore) -> int:
    """How many lock rows the store holds."""
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ConversationLock)).scalar_one()


def test_two_workers_see_each_others_tickets(migrated_url: str) -> None:
    """Tickets issued through two stores (two processes) queue on one lock."""
    first, second = ProjectLockStore(url=migrated_url), ProjectLockStore(url=migrated_url)
    one = first.issue_ticket("conv-1")
    two = second.issue_ticket("conv-1")
    assert two == one + 1
    lock = first.get_lock("conv-1")
    assert lock is not None and lock.now_serving == one and lock.is_someone_waiting()
    second.cleanup("conv-1", one)
    assert first.get_lock("conv-1").now_serving == two
    first.cleanup("conv-1", two)
    assert first.get_lock("conv-1") is None and stored_locks(first) == 0


def test_concurrent_tickets_are_unique(migrated_url: str) -> None:
    """Tickets issued at once from many threads and two stores never collide."""
    stores = [ProjectLockStore(url=migrated_url), ProjectLockStore(url=migrated_url)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        tickets = list(pool.map(lambda i: stores[i % 2].issue_ticket("conv-2"), range(40)))
    assert sorted(tickets) == list(range(40))


async def test_second_message_waits_for_the_first(migrated_url: str) -> None:
    """Rasa's lock() serialises two messages of one conversation across stores."""
    first, second = ProjectLockStore(url=migrated_url), ProjectLockStore(url=migrated_url)
    order: list[str] = []

    async def handle(store: ProjectLockStore, name: str, hold: float) -> None:
        async with store.lock("conv-3", wait_time_in_seconds=0.05):
            order.append(f"{name} start")
            await asyncio.sleep(hold)
            order.append(f"{name} end")

    await asyncio.gather(handle(first, "a", 0.3), handle(second, "b", 0.0))
    assert order == ["a start", "a end", "b start", "b end"]
    assert stored_locks(first) == 0


def test_other_conversations_are_independent(migrated_url: str) -> None:
    """A busy conversation does not hold up another one."""
    store = ProjectLockStore(url=migrated_url)
    store.issue_ticket("busy")
    store.issue_ticket("busy")
    ticket = store.issue_ticket("free")
    assert store.get_lock("free").now_serving == ticket


def test_a_database_without_the_table_is_a_lock_error(tmp_path) -> None:
    """Storage trouble reaches Rasa as its LockError, as with Rasa's own stores."""
    store = ProjectLockStore(url=f"sqlite:///{tmp_path / 'unmigrated.db'}")
    for call in (
        lambda: store.issue_ticket("conv-4"),
        lambda: store.get_lock("conv-4"),
        lambda: store.cleanup("conv-4", 0),
    ):
        with pytest.raises(LockError, match="OperationalError"):
            call()
