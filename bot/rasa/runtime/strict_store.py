"""Tracker store failures fail the message, instead of Rasa's silent fallback to memory.

Rasa wraps every tracker store in `FailSafeTrackerStore`: a failed save goes to an in-memory
store of that one process (the visitor is answered, but the message is in no database), and a
failed read returns no tracker (the conversation silently starts over). Here both raise, so
`bot.rasa.runtime.delivery` asks the visitor to send the message again and nothing is lost.

A tracker `delivery` has just read under the conversation's lock (to see whether the message is
a resend) is handed to Rasa's own first read of that conversation in the same message
(`prefetched`), so a message costs one read of the tracker, not two.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

# (sender id, tracker) read for the message being handled in this task, not yet handed over.
_PREFETCHED: ContextVar[tuple[str, DialogueStateTracker] | None] = ContextVar(
    "prefetched_tracker", default=None
)


@contextmanager
def prefetched(tracker: DialogueStateTracker | None) -> Iterator[None]:
    """Hand `tracker` to the next `retrieve` of its conversation in this task, within the block."""
    token = _PREFETCHED.set((tracker.sender_id, tracker) if tracker is not None else None)
    try:
        yield
    finally:
        _PREFETCHED.reset(token)


def _take_prefetched(sender_id: str) -> DialogueStateTracker | None:
    """The tracker read for this conversation in this message, once."""
    held = _PREFETCHED.get()
    if held is None or held[0] != sender_id:
        return None
    _PREFETCHED.set(None)
    return held[1]


async def save(store: FailSafeTrackerStore, tracker: DialogueStateTracker) -> None:
    """Same contract as FailSafeTrackerStore.save, without the fallback."""
    await store._tracker_store.save(tracker)


async def retrieve(store: FailSafeTrackerStore, sender_id: str) -> DialogueStateTracker | None:
    """Same contract as FailSafeTrackerStore.retrieve; an error is raised, not read as None."""
    return _take_prefetched(sender_id) or await store._tracker_store.retrieve(sender_id)


async def retrieve_full_tracker(
    store: FailSafeTrackerStore, sender_id: str
) -> DialogueStateTracker | None:
    """Same contract as FailSafeTrackerStore.retrieve_full_tracker, raising on errors."""
    return await store._tracker_store.retrieve_full_tracker(sender_id)
