"""Tracker store failures surface instead of falling back to a process's memory."""

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.runtime import strict_store


class DownStore(InMemoryTrackerStore):
    """A store whose database has gone away."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise ConnectionError("database restarting")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raise ConnectionError("database restarting")

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        raise ConnectionError("database restarting")


def tracker() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("visitor", [UserUttered("hello")])


async def test_rasa_alone_hides_a_failed_save_and_a_failed_read() -> None:
    failsafe = FailSafeTrackerStore(DownStore(Domain.empty()))
    await failsafe.save(tracker())  # no error: kept in this process's memory only
    assert await failsafe.retrieve("visitor") is None  # read as a brand-new conversation


async def test_a_failed_save_or_read_raises() -> None:
    failsafe = FailSafeTrackerStore(DownStore(Domain.empty()))
    with pytest.raises(ConnectionError):
        await strict_store.save(failsafe, tracker())
    with pytest.raises(ConnectionError):
        await strict_store.retrieve(failsafe, "visitor")
    with pytest.raises(ConnectionError):
        await strict_store.retrieve_full_tracker(failsafe, "visitor")


async def test_a_working_store_is_used_as_before() -> None:
    failsafe = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    await strict_store.save(failsafe, tracker())
    stored = await strict_store.retrieve(failsafe, "visitor")
    assert stored.latest_message.text == "hello"
    assert (await strict_store.retrieve_full_tracker(failsafe, "visitor")).sender_id == "visitor"
