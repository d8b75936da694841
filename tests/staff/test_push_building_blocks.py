"""The live feed's parts: the events-table tail, masking as messages arrive, views, frames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from bot.conversations.masking import MASK, mask_transcript
from bot.conversations.transcript import build_transcript
from bot.db.session import make_engine
from bot.rasa.events import ensure_events_table, events_table, load_events
from bot.staff.chat import chat_items
from bot.staff.push.chat_view import ChatView, lead_details, seeded_view
from bot.staff.push.frames import frame, messages_frame
from bot.staff.push.tail import GAP_SECONDS, EventTail
from tests.staff.seed import EMAIL, NAME, PHONE_AS_TYPED, Seeded
from tests.support.conversations import lead_conversation, stored_events


@pytest.fixture
def events_db(tmp_path: Path) -> Iterator[Session]:
    """An empty events table in a SQLite file (statements run without a transaction)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'events.db'}", immediate=False)
    with Session(engine, future=True) as session:
        ensure_events_table(session)
        yield session
    engine.dispose()


def store(session: Session, *ids: int, at: float | None = None) -> None:
    """Rows with these ids (timestamp `at`, else the id) in one conversation."""
    rows = [
        {"id": i, "sender_id": "c", "type_name": "user", "timestamp": at or float(i), "data": "{}"}
        for i in ids
    ]
    session.execute(insert(events_table), rows)


def ids(rows: list) -> list[int]:
    return [row.id for row in rows]


def test_the_tail_reads_only_new_rows_in_order(events_db: Session) -> None:
    store(events_db, 1, 2)
    tail = EventTail()
    tail.start(events_db)
    assert tail.position == 2 and tail.read(events_db, now=0) == []
    store(events_db, 3, 4)
    assert ids(tail.read(events_db, now=0)) == [3, 4]
    assert tail.read(events_db, now=0) == []


def test_the_tail_picks_up_an_id_that_commits_late(events_db: Session) -> None:
    tail = EventTail()
    tail.start(events_db)
    store(events_db, 1, 3)  # 2 is taken by a writer that has not committed yet
    assert ids(tail.read(events_db, now=0)) == [1, 3]
    assert set(tail.gaps) == {2}
    store(events_db, 2, 4)
    assert ids(tail.read(events_db, now=1)) == [2, 4]
    assert tail.gaps == {}
    store(events_db, 6)  # 5 never commits (a rollback): given up after GAP_SECONDS
    assert ids(tail.read(events_db, now=2)) == [6]
    assert ids(tail.read(events_db, now=2 + GAP_SECONDS + 1)) == [] and tail.gaps == {}


def test_the_tail_rereads_ids_handed_out_again_after_a_deletion(events_db: Session) -> None:
    store(events_db, 1, 2, 3)
    tail = EventTail()
    tail.start(events_db)
    events_db.execute(delete(events_table).where(events_table.c.id >= 2))  # an erasure
    store(events_db, 2, at=100.0)  # SQLite hands id 2 out again
    assert ids(tail.read(events_db, now=0)) == [2]
    assert (tail.position, tail.marker) == (2, 100.0)


def test_masking_message_by_message_matches_masking_the_whole(seeded: Seeded) -> None:
    engine = make_engine(seeded.url, immediate=False)
    try:
        with Session(engine, future=True) as session:
            events = load_events(session, "conv-booked")
            known = lead_details(session, "conv-booked")
    finally:
        engine.dispose()
    whole = chat_items(mask_transcript(build_transcript(events), known).items)
    view = ChatView(masked=True, known=known)
    lines = [line for event in events for line in view.add([event])]
    assert [(line.id, line.text) for line in lines] == [(line.id, line.text) for line in whole]
    texts = "\n".join(line.text for line in lines)
    for secret in (NAME, "Rivera", EMAIL, PHONE_AS_TYPED):
        assert secret not in texts, secret
    assert MASK in texts


def test_a_masked_view_learns_values_from_slots_and_masks_form_answers() -> None:
    events = stored_events(lead_conversation(name="Jo March", contact="jo@example.com"))
    half = len(events) // 2
    view = ChatView(masked=True)
    shown = view.add(events[:half]) + view.add(events[half:])
    texts = [line.text for line in shown]
    assert "I'm Jo March" not in texts and MASK in texts  # the answer to the name question
    assert all("Jo March" not in text and "jo@example.com" not in text for text in texts)
    plain = ChatView(masked=False)
    assert "I'm Jo March" in [line.text for line in plain.add(events)]


def test_a_view_turns_each_event_into_lines_once(seeded: Seeded) -> None:
    engine = make_engine(seeded.url, immediate=False)
    try:
        with Session(engine, future=True) as session:
            newest = max(e.id for e in load_events(session, "conv-booked"))
            view = seeded_view(session, "conv-booked", masked=False, up_to=newest - 3)
            again = load_events(session, "conv-booked")
    finally:
        engine.dispose()
    kept = len(view.lines)
    added = view.add(again)  # the old events again, and three new ones
    new = chat_items(build_transcript(again[-3:]).items)
    assert new
    assert [line.id for line in added] == [line.id for line in new]
    assert len(view.lines) == kept + len(added) and view.newest == newest
    assert view.since(newest) == [] and view.since(0) == view.lines


def test_frames_are_typed_json_lines() -> None:
    assert frame("reconnect") == "event: reconnect\ndata: {}\n\n"
    text = messages_frame(7, [])
    assert text.startswith("event: messages\ndata: ") and text.endswith("\n\n")
    body = text.split("data: ", 1)[1]
    assert "\n" not in body.strip() and json.loads(body) == {"cursor": 7, "items": []}
    tricky = frame("messages", {"text": "a\nb\r\nc <script>"})
    assert tricky.count("\n") == 3 and json.loads(tricky.split("data: ")[1])["text"].endswith(
        "<script>"
    )
