"""Live takeover through the staff app: join, write, read the visitor, hand back; and refusals.

Rasa is the stand-in of tests/staff/rasa_stand_in.py: what the app sends goes through the real
`Conversation` client into the test database's `events` table, as Rasa's tracker store writes
it, and `rasa.delivered` is what the visitor's channel would be sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.handoffs import Handoff
from bot.db.staff import AuditEntry, StaffUser
from bot.handoff import notices
from bot.intake.emergency import ACUTE, emergency_messages
from bot.rasa.events import StoredEvent, events_table, load_events
from bot.staff.accounts import create_user
from tests.staff.conftest import LIVE_ID, Clock, Staff
from tests.staff.rasa_stand_in import HANDBACK_REPLY, RasaStandIn, unreachable, visitor_says
from tests.staff.seed import PASSWORD
from tests.support.conversations import Script, write_conversation

SignIn = Callable[[str], Staff]
LIVE = f"/conversations/{LIVE_ID}"


def handoff(db: Session) -> Handoff:
    """The live conversation's latest handoff, as stored now."""
    db.expire_all()
    return db.scalars(
        select(Handoff).where(Handoff.conversation_id == LIVE_ID).order_by(Handoff.id.desc())
    ).first()


def staff_id(db: Session, username: str) -> int:
    return db.scalars(select(StaffUser.id).where(StaffUser.username == username)).one()


def events(db: Session) -> list[StoredEvent]:
    db.expire_all()
    return load_events(db, LIVE_ID)


def audit_rows(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def cursor(staff: Staff) -> int:
    """The event id the live page's script would poll after."""
    return int(re.search(r'data-after="(\d+)"', staff.get(f"{LIVE}/live").text).group(1))


def feed(staff: Staff, after: int) -> dict[str, Any]:
    response = staff.get(f"{LIVE}/live.json", params={"after": str(after)})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def navigator(takeover: SignIn, live_chat: str) -> Staff:
    """The navigator, signed in, who has joined the waiting live chat."""
    staff = takeover("navigator")
    staff.post(f"{LIVE}/join")
    return staff


def second_navigator(db: Session) -> None:
    create_user(
        db, username="navigator2", display_name="Rosa Diaz", role="navigator", password=PASSWORD
    )
    db.commit()


def test_a_navigator_claims_a_waiting_request(
    takeover: SignIn, live_chat: str, rasa: RasaStandIn, db: Session
) -> None:
    navigator = takeover("navigator")
    before = len(events(db))
    response = navigator.post(f"{LIVE}/join")
    assert response.status_code == 303
    assert response.headers["location"] == f"{LIVE}/live?done=joined#compose"

    row = handoff(db)
    assert (row.status, row.claimed_by_id) == ("claimed", staff_id(db, "navigator"))
    added = events(db)[before:]
    assert [e.type_name for e in added] == ["pause", "bot"]
    assert added[1].data["metadata"]["handoff"] == {
        "kind": "joined",
        "staff_name": "Navigator Person",
        "staff_id": row.claimed_by_id,
    }
    assert rasa.delivered_to(LIVE_ID) == [notices.joined("Navigator Person")]
    entry = audit_rows(db, "handoff_claim")[-1]
    assert (entry.actor, entry.target_id, entry.details) == (
        "staff:navigator",
        LIVE_ID,
        {"handoff_id": row.id},
    )

    page = navigator.get(f"{LIVE}/live?done=joined")
    assert "You are in this chat" in page.text
    assert f'action="{LIVE}/messages"' in page.text and f'action="{LIVE}/hand-back"' in page.text
    assert f'action="{LIVE}/join"' not in page.text
    assert navigator.get("/handoffs/count.json").json() == {"waiting": 0}


def test_a_second_navigator_is_refused(
    takeover: SignIn, live_chat: str, rasa: RasaStandIn, db: Session
) -> None:
    second_navigator(db)
    first, second = takeover("navigator"), takeover("navigator2")
    assert first.post(f"{LIVE}/join").status_code == 303
    refused = second.post(f"{LIVE}/join")
    assert refused.status_code == 409
    assert "Another team member has already joined this conversation." in refused.text
    assert "Navigator Person is in this chat" in refused.text
    assert f'action="{LIVE}/messages"' not in refused.text

    written = second.post(f"{LIVE}/messages", {"text": "Hello from Rosa"})
    assert written.status_code == 409
    assert "Another team member is in this conversation." in written.text
    assert handoff(db).claimed_by_id == staff_id(db, "navigator")
    assert rasa.delivered_to(LIVE_ID) == [notices.joined("Navigator Person")]
    assert second.post(f"{LIVE}/hand-back").status_code == 400  # not theirs to hand back


def test_messages_both_ways_appear_after_the_cursor(
    navigator: Staff, rasa: RasaStandIn, db: Session, db_url: str, clock: Clock
) -> None:
    after = cursor(navigator)
    assert feed(navigator, after)["items"] == []

    sent = navigator.post(f"{LIVE}/messages", {"text": "  Hi, I'm Jo from the team.  "})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{LIVE}/live?done=sent#compose"
    clock.advance(seconds=20)
    visitor_says(db_url, LIVE_ID, "thanks! my dad's surgery is on Friday", clock.now)

    body = feed(navigator, after)
    assert [(i["from"], i["name"], i["text"]) for i in body["items"]] == [
        ("staff", "Navigator Person", "Hi, I'm Jo from the team."),
        ("visitor", "Visitor", "thanks! my dad's surgery is on Friday"),
    ]
    assert body["items"][1]["at"] == clock.now.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert body["state"]["key"] == "mine"
    assert body["cursor"] == events(db)[-1].id
    assert feed(navigator, body["cursor"])["items"] == []
    assert rasa.delivered_to(LIVE_ID)[-1] == "Hi, I'm Jo from the team."

    row = handoff(db)
    assert (row.staff_messages, row.last_staff_message_at) == (1, clock.now - timedelta(seconds=20))
    entry = audit_rows(db, "handoff_message")[-1]
    assert entry.details == {"handoff_id": row.id}  # ids only, never the text
    page = navigator.get(f"{LIVE}/live").text  # a reload shows both, the staff member by name
    assert '<span class="who">Navigator Person</span>' in page
    assert "thanks! my dad&#39;s surgery is on Friday" in page


def test_an_emergency_message_is_flagged(navigator: Staff, db_url: str, clock: Clock) -> None:
    after = cursor(navigator)
    text = "my chest feels crushed and I can't breathe"
    flag = {
        "entity": "red_flag",
        "start": 0,
        "end": len(text),
        "value": ACUTE,
        "extractor": "MessageGuard",
    }
    script = Script(clock.now, "socketio")  # the guard answers even while the bot is paused
    script.user(text, "emergency", 0.99, [flag])
    script.action("action_emergency")
    for line in emergency_messages(ACUTE):
        script.say(line)
    write_conversation(db_url, LIVE_ID, script.events)

    items = feed(navigator, after)["items"]
    assert (items[0]["from"], items[0]["emergency"]) == ("visitor", True)
    assert items[0]["flag"] == "Emergency — the assistant sent 911"
    assert [i["emergency"] for i in items[1:]] == [False] * len(emergency_messages(ACUTE))
    page = navigator.get(f"{LIVE}/live").text
    assert 'class="chat-item from-visitor emergency"' in page
    label = '<p class="flag" data-testid="emergency-flag">Emergency — the assistant sent 911</p>'
    assert label in page
    transcript = navigator.get(LIVE).text
    assert 'data-testid="emergency-flag">Emergency — the assistant sent 911<' in transcript


def test_hand_back_keeps_the_note_for_staff(
    navigator: Staff, rasa: RasaStandIn, db: Session
) -> None:
    navigator.post(f"{LIVE}/messages", {"text": "Happy to help."})
    before = len(events(db))
    note = "Dad's surgery is Friday; call back Monday"
    response = navigator.post(f"{LIVE}/hand-back", {"note": note})
    assert response.status_code == 303
    assert response.headers["location"] == f"{LIVE}/live?done=handed-back"

    row = handoff(db)
    assert (row.status, row.outcome, row.note) == ("closed", "handed_back", note)
    added = events(db)[before:]
    assert [e.type_name for e in added] == ["bot", "resume", "action", "bot"]
    assert added[0].data["metadata"]["handoff"]["kind"] == "handed_back"
    assert added[2].data["name"] == "action_handback"
    assert rasa.executed == [(LIVE_ID, "action_handback")]
    assert rasa.delivered_to(LIVE_ID)[-2:] == [
        notices.handed_back("Navigator Person"),
        HANDBACK_REPLY,
    ]
    stored = (
        select(func.count())
        .select_from(events_table)
        .where(events_table.c.data.like("%call back Monday%"))
    )
    assert db.scalar(stored) == 0  # the note never reaches Rasa or the visitor
    assert audit_rows(db, "handoff_hand_back")[-1].details == {"handoff_id": row.id, "note": True}

    page = navigator.get(f"{LIVE}/live?done=handed-back").text
    assert "You handed the chat back to the assistant." in page
    assert "Not in a takeover" in page
    assert "Dad&#39;s surgery is Friday; call back Monday" in page  # for staff, on the page
    assert f'action="{LIVE}/join"' in page


def test_rasa_unreachable_records_nothing_and_keeps_the_text(navigator: Staff, db: Session) -> None:
    navigator.client.app.state.open_conversation = unreachable
    before, audited = len(events(db)), len(audit_rows(db, "handoff_message"))
    text = "Are you still there? <b>Reply</b> when you can."
    response = navigator.post(f"{LIVE}/messages", {"text": text})
    assert response.status_code == 503
    assert "Nothing reached the visitor: the assistant is not reachable" in response.text
    textarea = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert textarea.group(1) == "Are you still there? &lt;b&gt;Reply&lt;/b&gt; when you can."
    assert len(events(db)) == before
    assert handoff(db).staff_messages == 0
    assert len(audit_rows(db, "handoff_message")) == audited

    kept = navigator.post(f"{LIVE}/hand-back", {"note": "visitor went quiet"})
    assert kept.status_code == 503
    assert ">visitor went quiet</textarea>" in kept.text
    assert handoff(db).status == "claimed"


def test_a_failed_join_leaves_the_request_waiting(
    signed_in: SignIn, live_chat: str, db: Session
) -> None:
    navigator = signed_in("navigator")
    navigator.client.app.state.open_conversation = unreachable
    before = len(events(db))
    response = navigator.post(f"{LIVE}/join")
    assert response.status_code == 503
    assert "Nothing reached the visitor" in response.text
    row = handoff(db)
    assert (row.status, row.claimed_by_id, row.claimed_at) == ("waiting", None, None)
    assert len(events(db)) == before
    assert audit_rows(db, "handoff_claim") == []


def test_joining_a_live_conversation_without_a_request(
    takeover: SignIn, rasa: RasaStandIn, db: Session, db_url: str, clock: Clock
) -> None:
    visitor_says(db_url, "conv-browsing", "how much does a second opinion cost?", clock.now)
    navigator = takeover("navigator")
    assert navigator.post("/conversations/conv-browsing/join").status_code == 303
    db.expire_all()
    row = db.scalars(select(Handoff).where(Handoff.conversation_id == "conv-browsing")).one()
    assert (row.status, row.requested_by, row.channel) == ("claimed", "staff", "socketio")
    stale = navigator.post("/conversations/conv-booked/join")  # last message a day ago
    assert stale.status_code == 400
    assert "has not written for over 10 minutes" in stale.text
    assert rasa.delivered_to("conv-booked") == []


def test_an_empty_message_is_refused(navigator: Staff, rasa: RasaStandIn) -> None:
    response = navigator.post(f"{LIVE}/messages", {"text": "   "})
    assert response.status_code == 400
    assert "Write a message first." in response.text
    assert len(rasa.delivered_to(LIVE_ID)) == 1  # only the joined notice


def test_an_admin_may_hand_back_someone_elses_chat(
    takeover: SignIn, live_chat: str, db: Session
) -> None:
    takeover("navigator").post(f"{LIVE}/join")
    admin = takeover("admin")
    page = admin.get(f"{LIVE}/live").text
    assert "Navigator Person is in this chat" in page
    assert "Hand back for Navigator Person" in page
    assert f'action="{LIVE}/messages"' not in page
    assert admin.post(f"{LIVE}/hand-back").status_code == 303
    assert (handoff(db).status, handoff(db).note) == ("closed", None)
