"""Tracker store failures fail the message, instead of Rasa's silent fallback to memory.

Rasa wraps every tracker store in `FailSafeTrackerStore`: a failed save goes to an in-memory
store of that one process (the visitor is answered, but the message is in no database), and a
failed read returns no tracker (the conversation silently starts over). Here both raise, so
`bot.rasa.runtime.delivery` asks the visitor to send the message again and nothing is lost.
"""

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


async def save(store: FailSafeTrackerStore, tracker: DialogueStateTracker) -> None:
    """Same contract as FailSafeTrackerStore.save, without the fallback."""
    await store._tracker_store.save(tracker)


async def retrieve(store: FailSafeTrackerStore, sender_id: str) -> DialogueStateTracker | None:
    """Same contract as FailSafeTrackerStore.retrieve; an error is raised, not read as None."""
    return await store._tracker_store.retrieve(sender_id)


async def retrieve_full_tracker(
    store: FailSafeTrackerStore, sender_id: str
) -> DialogueStateTracker | None:
    """Same contract as FailSafeTrackerStore.retrieve_full_tracker, raising on errors."""
    return await store._tracker_store.retrieve_full_tracker(sender_id)
