"""The tracker store erases a conversation when the visitor asked to delete their data."""

from collections.abc import Iterator, Sequence

import pytest
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.core.settings import get_settings
from bot.db.staff import AuditEntry
from bot.rasa.runtime.tracker_store import ProjectSQLTrackerStore
from tests.support.conversations import (
    Script,
    at,
    booked_conversation,
    domain,
    greeting_conversation,
    lead_conversation,
)
from tests.support.visitor_data import add_lead, add_navigator, add_staff_rows, rows_of


@pytest.fixture
def store(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectSQLTrackerStore]:
    """The project's tracker store on the test database, as DATABASE_URL configures it."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    store = ProjectSQLTrackerStore(domain=domain())
    yield store
    store.engine.dispose()
    get_settings.cache_clear()


def tracker_with(sender_id: str, events: Sequence[Event]) -> DialogueStateTracker:
    """A tracker as Rasa's processor holds it after these events."""
    tracker = DialogueStateTracker(sender_id, domain().slots)
    for event in events:
        tracker.update(event)
    return tracker


def deletion_turn() -> list[Event]:
    """The visitor asks to delete their data; action_delete_my_data answers and flags it."""
    script = Script(at(day=1))
    script.user("please delete everything I told you", "delete_my_data", 0.97)
    script.action("action_delete_my_data").say("Done. I've deleted this conversation.")
    script.slots(scope=None, recommendation=None, situation=None, deletion_requested=True)
    return script.listen().events


async def test_a_normal_save_stores_the_events(store, make_session) -> None:
    tracker = tracker_with("5550001", booked_conversation())
    await store.save(tracker)
    with make_session() as session:
        assert rows_of(session, "5550001")["events"] == len(tracker.events)
    stored = await store.retrieve_full_tracker("5550001")
    assert stored is not None and stored.get_slot("booking_id") == "PR-7K2M9Q"
    assert [e.as_dict() for e in stored.events] == [e.as_dict() for e in tracker.events]


async def test_delete_my_data_removes_the_rows_instead_of_saving(store, make_session) -> None:
    tracker = tracker_with("5550001", booked_conversation())
    await store.save(tracker)
    await store.save(tracker_with("5550002", lead_conversation()))
    with make_session() as session:
        navigator_id = add_navigator(session)
        for conversation_id in ("5550001", "5550002"):
            add_lead(session, conversation_id, navigator_id=navigator_id)
            add_staff_rows(session, conversation_id)
        session.commit()
        before = rows_of(session, "5550001")
        other = rows_of(session, "5550002")
    assert all(before.values()), before

    for event in deletion_turn():
        tracker.update(event)
    await store.save(tracker)

    with make_session() as session:
        assert set(rows_of(session, "5550001").values()) == {0}
        assert rows_of(session, "5550002") == other
        (entry,) = session.scalars(select(AuditEntry)).all()
    assert (entry.actor, entry.action, entry.target_id) == (
        "visitor",
        "erase_conversation",
        "5550001",
    )
    assert entry.details["events"] == before["events"] and entry.details["bookings"] == 1
    assert await store.retrieve_full_tracker("5550001") is None


async def test_the_next_message_starts_a_fresh_conversation(store, make_session) -> None:
    tracker = tracker_with("5550001", [*lead_conversation(), *deletion_turn()])
    await store.save(tracker)
    fresh = tracker_with("5550001", greeting_conversation(start=at(day=2)))
    await store.save(fresh)
    stored = await store.retrieve_full_tracker("5550001")
    assert stored is not None and len(stored.events) == len(fresh.events)
    assert stored.get_slot("deletion_requested") is None
    assert stored.get_slot("lead_name") is None
    with make_session() as session:
        assert rows_of(session, "5550001")["events"] == len(fresh.events)
