"""The inbox's preview, live and handoff columns and filters, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.conversations.inbox import HandoffState, InboxFilters, list_conversations
from bot.conversations.index import refresh_index
from bot.conversations.masking import MASK
from bot.db.models import utcnow
from bot.db.reviews import ConversationIndex
from bot.db.staff import StaffUser
from tests.support.conversations import (
    Script,
    at,
    greeting,
    greeting_conversation,
    write_conversation,
)
from tests.support.inbox_rows import handoff_row

# Conversation id -> (hour after T0 it starts, its handoff's status or None); newest last.
CONVERSATIONS = {
    "c-waiting-old": (1, "waiting"),
    "c-claimed": (2, "claimed"),
    "c-waiting-new": (3, "waiting"),
    "c-orphan": (4, "claimed"),  # claimed by an account deleted since
    "c-closed": (5, "closed"),
    "c-plain": (6, None),
}
NEWEST_FIRST = list(reversed(CONVERSATIONS))
LONG = "my mother's oncologist and her GP disagree about the next step " * 3


@pytest.fixture
def inbox(migrated_url: str, session: Session, user: StaffUser) -> Session:
    """Six indexed conversations, five with a handoff; `user` (Rita Ng) claimed c-claimed."""
    for conversation_id, (hour, status) in CONVERSATIONS.items():
        write_conversation(
            migrated_url, conversation_id, greeting_conversation(start=at(hour=hour))
        )
        if status:
            claimer = None if conversation_id == "c-orphan" else user.id
            session.add(handoff_row(conversation_id, status, claimer))
    refresh_index(session)
    session.commit()
    return session


def ids(session: Session, **query: str) -> list[str]:
    """The conversations the query selects, in inbox order (all on one page)."""
    page = list_conversations(
        session, InboxFilters.from_query(query), per_page=100, live_since=at(hour=4)
    )
    assert page.total == len(page.items)
    return [row.conversation_id for row in page.items]


@contextmanager
def handoff_queries(session: Session) -> Iterator[list[str]]:
    """The statements that read the handoffs table while the block runs."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "handoffs" in statement:
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_each_row_has_its_handoff_state_from_one_query(inbox: Session) -> None:
    with handoff_queries(inbox) as queries:
        page = list_conversations(inbox, InboxFilters(), live_since=at(hour=4))
    assert len(queries) == 1
    states = {row.conversation_id: row.handoff for row in page.items}
    assert states == {
        "c-waiting-old": HandoffState("waiting"),
        "c-claimed": HandoffState("claimed", "Rita Ng"),
        "c-waiting-new": HandoffState("waiting"),
        "c-orphan": HandoffState("claimed"),
        "c-closed": None,
        "c-plain": None,
    }
    labels = {c: s.label for c, s in states.items() if s}
    assert labels == {
        "c-waiting-old": "Waiting for a person",
        "c-claimed": "With Rita Ng",
        "c-waiting-new": "Waiting for a person",
        "c-orphan": "With a team member",
    }


def test_handoff_filters_and_waiting_requests_first(inbox: Session) -> None:
    assert ids(inbox) == NEWEST_FIRST
    assert ids(inbox, handoff="waiting") == ["c-waiting-new", "c-waiting-old"]
    assert ids(inbox, handoff="claimed") == ["c-orphan", "c-claimed"]
    assert ids(inbox, handoff="any") == ["c-waiting-new", "c-waiting-old", "c-orphan", "c-claimed"]
    assert ids(inbox, handoff="any", channel="telegram") == []


def test_handoff_filter_pages(inbox: Session) -> None:
    filters = InboxFilters(handoff="any")
    pages = [
        list_conversations(inbox, filters, page=n, per_page=3, live_since=at(hour=4))
        for n in (1, 2)
    ]
    assert [(p.total, p.pages) for p in pages] == [(4, 2), (4, 2)]
    assert [r.conversation_id for p in pages for r in p.items] == [
        "c-waiting-new",
        "c-waiting-old",
        "c-orphan",
        "c-claimed",
    ]


def test_live_rows_and_the_live_filter(inbox: Session) -> None:
    page = list_conversations(inbox, InboxFilters(), live_since=at(hour=4))
    assert {row.conversation_id for row in page.items if row.live} == {
        "c-orphan",
        "c-closed",
        "c-plain",
    }
    assert ids(inbox, live="1") == ["c-plain", "c-closed", "c-orphan"]
    assert ids(inbox, live="0") == ["c-waiting-new", "c-claimed", "c-waiting-old"]
    assert ids(inbox, live="true", handoff="any") == ["c-orphan"]


def test_live_by_default_means_within_the_configured_minutes(
    migrated_url: str, session: Session
) -> None:
    write_conversation(migrated_url, "c-old", greeting_conversation())
    write_conversation(
        migrated_url, "c-now", greeting_conversation(start=utcnow() - timedelta(minutes=2))
    )
    refresh_index(session)
    session.commit()
    page = list_conversations(session, InboxFilters())
    assert {row.conversation_id: row.live for row in page.items} == {"c-now": True, "c-old": False}
    live = list_conversations(session, InboxFilters(live=True))
    assert [row.conversation_id for row in live.items] == ["c-now"]


def test_the_index_stores_the_masked_shortened_preview(migrated_url: str, session: Session) -> None:
    opening = f"write to jo.doe@example.com or call 303-555-0142: {LONG}"
    write_conversation(migrated_url, "c-long", greeting(Script(at(hour=1)), opening).events)
    buttons = Script(at(hour=2)).session_start()
    buttons.user("/greet", "greet", 1.0).utter("utter_greet").listen()
    write_conversation(migrated_url, "c-buttons", buttons.events)
    refresh_index(session)
    session.commit()
    stored = session.get(ConversationIndex, "c-long").preview
    assert stored is not None and stored.startswith(f"write to {MASK} or call {MASK}: my mother's")
    assert stored.endswith("…") and len(stored) <= 121
    assert "jo.doe" not in stored and "555" not in stored
    assert session.get(ConversationIndex, "c-buttons").preview is None
    rows = list_conversations(session, InboxFilters(), live_since=at(hour=4)).items
    assert {row.conversation_id: row.preview for row in rows} == {
        "c-buttons": None,
        "c-long": stored,
    }
