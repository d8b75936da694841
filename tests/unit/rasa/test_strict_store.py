"""Tracker store failures surface instead of falling back to a process's memory."""

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.runtime import delivery, strict_store


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


class CountingStore(InMemoryTrackerStore):
    """A working store that counts its reads."""

    reads = 0

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        self.reads += 1
        return await super().retrieve(sender_id)


class ReadingProcessor:
    """Reads the tracker through the store as Rasa's processor does, then answers."""

    def __init__(self, store: FailSafeTrackerStore) -> None:
        self.tracker_store, self.seen = store, []

    async def handle_message(self, message: UserMessage) -> None:
        tracker = await strict_store.retrieve(self.tracker_store, message.sender_id)
        again = await strict_store.retrieve(self.tracker_store, message.sender_id)
        self.seen.append((tracker.latest_message.text, again.latest_message.text))
        await message.output_channel.send_text_message(message.sender_id, "fresh reply")


class ReadyAgent:
    """The part of Rasa's Agent that delivery uses."""

    def __init__(self, processor: ReadingProcessor) -> None:
        self.processor, self.lock_store = processor, InMemoryLockStore()

    def is_ready(self) -> bool:
        return True


async def test_a_new_message_with_an_id_reads_its_tracker_once() -> None:
    store = CountingStore(Domain.empty())
    await store.save(tracker())
    processor = ReadingProcessor(FailSafeTrackerStore(store))
    channel = CollectingOutputChannel()
    new = UserMessage("next", channel, "visitor", metadata={"message_id": "m5"})
    await delivery.handle_message(ReadyAgent(processor), new)
    # delivery's read (is it a resend?) is handed to Rasa's first read; its second reads again
    assert store.reads == 2
    assert processor.seen == [("hello", "hello")]
    assert [m["text"] for m in channel.messages] == ["fresh reply"]


async def test_a_prefetched_tracker_goes_to_its_own_conversation_only_within_the_message() -> None:
    store = CountingStore(Domain.empty())
    await store.save(tracker())
    failsafe = FailSafeTrackerStore(store)
    other = DialogueStateTracker.from_events("someone-else", [UserUttered("other")])
    with strict_store.prefetched(other):
        assert (await strict_store.retrieve(failsafe, "visitor")).latest_message.text == "hello"
    assert store.reads == 1
    with strict_store.prefetched(tracker()):
        pass
    await strict_store.retrieve(failsafe, "visitor")  # outside the block: read from the store
    assert store.reads == 2
