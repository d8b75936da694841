"""The inbox page: first-message previews, the live indicator, handoff states and their filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.masking import MASK
from bot.db.handoffs import Handoff
from bot.db.reviews import ConversationIndex
from bot.db.staff import StaffUser
from tests.staff.conftest import Clock, Staff
from tests.staff.seed import EMAIL, PHONE_AS_TYPED, START
from tests.support.conversations import Script, greeting, greeting_conversation, write_conversation
from tests.support.inbox_rows import handoff_row, index_row
from tests.support.indexing import index_pending

SignIn = Callable[[str], Staff]
ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
TRANSCRIPT_LINK = re.compile(r'href="/conversations/([^"/?]+)"')
LIVE_BADGE = '<span class="badge info">Live</span>'


def rows(html: str) -> dict[str, str]:
    """The inbox's rows by conversation id, in page order."""
    found = {}
    for row in ROW.findall(html):
        link = TRANSCRIPT_LINK.search(row)
        if link:
            found[link.group(1)] = row
    return found


def staff_id(db: Session, username: str) -> int:
    """The id of a seeded staff account."""
    return db.scalars(select(StaffUser.id).where(StaffUser.username == username)).one()


def request(conversation_id: str, status: str, claimed_by_id: int | None = None) -> Handoff:
    """An open handoff row, waiting or claimed."""
    return handoff_row(conversation_id, status, claimed_by_id, at=START)


def indexed(conversation_id: str, last_at: datetime) -> ConversationIndex:
    """An index row as the consumer writes it for a one-message conversation."""
    typed = "is anyone there?"
    return index_row(
        conversation_id,
        last_at,
        channel="socketio",
        last_event_id=0,
        user_messages=1,
        preview=typed,
        preview_personal=typed,
    )


def test_rows_show_the_first_message_and_link_to_the_transcript_and_live_view(
    signed_in: SignIn,
) -> None:
    page = signed_in("navigator").get("/conversations")
    found = rows(page.text)
    assert len(found) == 6
    for conversation_id, row in found.items():
        assert '<td class="preview">hi there</td>' in row, conversation_id  # all start with it
        assert f'href="/conversations/{conversation_id}/live">Live view</a>' in row


def test_a_first_message_with_contact_details_is_masked_for_reviewers_only(
    signed_in: SignIn, db_url: str
) -> None:
    opening = f"please call {PHONE_AS_TYPED} or mail {EMAIL} about my father"
    write_conversation(db_url, "conv-contact", greeting(Script(), opening).events)
    index_pending(db_url)
    masked = f"please call {MASK} or mail {MASK} about my father"
    reviewer, navigator = signed_in("reviewer"), signed_in("navigator")
    row = rows(reviewer.get("/conversations").text)["conv-contact"]
    assert f'<td class="preview">{masked}</td>' in row
    assert EMAIL not in row and "555-0142" not in row
    row = rows(navigator.get("/conversations").text)["conv-contact"]  # navigators see details
    assert EMAIL in row and PHONE_AS_TYPED in row and MASK not in row
    assert masked in reviewer.get("/conversations/conv-contact").text  # as the transcript shows
    assert EMAIL in navigator.get("/conversations/conv-contact").text  # in full where it may


def test_a_conversation_of_buttons_only_says_so(signed_in: SignIn, db_url: str) -> None:
    script = Script().session_start()
    script.user("/greet", "greet", 1.0).utter("utter_greet").listen()
    write_conversation(db_url, "conv-buttons", script.events)
    index_pending(db_url)
    row = rows(signed_in("reviewer").get("/conversations").text)["conv-buttons"]
    assert '<span class="empty">no typed message</span>' in row


def test_the_live_indicator_follows_the_clock(signed_in: SignIn, db_url: str, clock: Clock) -> None:
    start = clock.now - timedelta(minutes=5)
    write_conversation(db_url, "conv-now", greeting_conversation(start=start, channel="socketio"))
    index_pending(db_url)
    navigator = signed_in("navigator")
    found = rows(navigator.get("/conversations").text)
    assert [c for c, row in found.items() if LIVE_BADGE in row] == ["conv-now"]
    assert list(rows(navigator.get("/conversations", params={"live": "1"}).text)) == ["conv-now"]
    clock.advance(minutes=10)
    assert LIVE_BADGE not in navigator.get("/conversations").text
    assert "0 conversations" in navigator.get("/conversations", params={"live": "1"}).text


def test_handoff_states_and_the_waiting_filter(signed_in: SignIn, db: Session) -> None:
    navigator = staff_id(db, "navigator")
    db.add_all([request("conv-booked", "waiting"), request("conv-emergency", "claimed", navigator)])
    db.commit()
    reviewer = signed_in("reviewer")
    found = rows(reviewer.get("/conversations").text)
    assert "Waiting for a person" in found["conv-booked"]
    assert "With Navigator Person" in found["conv-emergency"]
    others = [row for c, row in found.items() if c not in ("conv-booked", "conv-emergency")]
    assert not any("Waiting for" in row or "With " in row for row in others)
    waiting = reviewer.get("/conversations", params={"handoff": "waiting"}).text
    assert list(rows(waiting)) == ["conv-booked"]
    assert '<option value="waiting" selected>' in waiting
    both = reviewer.get("/conversations", params={"handoff": "any"}).text
    assert list(rows(both)) == ["conv-booked", "conv-emergency"]  # waiting first, though older


def test_filters_are_kept_in_the_page_links(signed_in: SignIn, db: Session, clock: Clock) -> None:
    for n in range(26):
        conversation_id = f"visitor-{n:02}"
        db.add(indexed(conversation_id, clock.now))
        db.add(request(conversation_id, "waiting"))
    db.commit()
    page = signed_in("navigator").get("/conversations", params={"handoff": "waiting", "live": "1"})
    assert "26 conversations" in page.text and len(rows(page.text)) == 25
    assert 'href="/conversations?handoff=waiting&amp;live=1&amp;page=2"' in page.text
    assert 'name="live" value="1" checked' in page.text


def test_bad_handoff_and_live_values_are_explained(signed_in: SignIn) -> None:
    navigator = signed_in("navigator")
    bad = navigator.get("/conversations", params={"handoff": "<soon>"})
    assert bad.status_code == 200
    assert "handoff: unknown value &#39;&lt;soon&gt;&#39;; choose one of waiting" in bad.text
    assert len(rows(bad.text)) == 6  # the filters were dropped, not half applied
    vague = navigator.get("/conversations", params={"live": "maybe"})
    assert "live: &#39;maybe&#39; is not yes or no" in vague.text
