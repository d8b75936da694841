"""A navigator joins, writes, hands back; the watcher falls back: against Rasa's HTTP API.

The stand-in for Rasa answers the two endpoints the team's tools use as Rasa does: it checks the
token, appends posted events to the same database's `events` table the way the SQL tracker
store stores them (its own connection and pragmas, as a separate process would), tracks the
paused state from pause/resume events, and logs an `action` event for /execute.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.settings import Settings
from bot.db.handoffs import Handoff
from bot.db.session import make_engine
from bot.db.staff import AuditEntry, StaffUser
from bot.handoff import notices, state, takeover, watcher
from bot.handoff.conversation import Conversation
from bot.handoff.takeover import MAX_MESSAGE, TakeoverError
from bot.rasa.events import StoredEvent, events_table, load_events
from tests.support.conversations import Script, write_conversation

NOW = datetime(2030, 1, 7, 15, 30, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
TOKEN = "rasa-api-token-for-tests"
CID = "visitor/42 #a"  # quoted in the URL path
PRIVATE = "Your mother's oncologist can be reached about the biopsy"
NOTE = "Visitor worried about biopsy results; call back Tuesday"
WatcherPass = Callable[[datetime], int]  # one pass of the watcher at a given time: handoffs closed
ROUTE = re.compile(r"^/conversations/(?P<cid>[^/]+)/(?P<tail>tracker/events|execute)$")


class FakeRasa:
    """Rasa's /tracker/events and /execute endpoints over one database's events table."""

    def __init__(self, database_url: str) -> None:
        """Write through an engine of its own, as Rasa's tracker store does."""
        self.engine: Engine = make_engine(database_url, foreign_keys=False, immediate=False)
        self.down = False
        self.refuse: set[str] = set()  # endpoints ("execute", "tracker/events") failing with 500
        self.paused: dict[str, bool] = {}
        self.actions: list[tuple[str, str, bool]] = []  # (conversation, action, paused then)
        self.requests = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one API call."""
        if self.down:
            raise httpx.ConnectError("Connection refused", request=request)
        self.requests += 1
        if request.method != "POST" or request.url.params.get("token") != TOKEN:
            return httpx.Response(401, json={"status": "failure", "reason": "NotAuthenticated"})
        match = ROUTE.match(request.url.raw_path.decode().split("?")[0])
        if match is None:
            return httpx.Response(404, json={"status": "failure", "reason": "NotFound"})
        if match["tail"] in self.refuse:
            return httpx.Response(500, json={"status": "failure", "reason": "ConversationError"})
        conversation_id, body = unquote(match["cid"]), json.loads(request.content)
        try:
            if match["tail"] == "execute":
                self.execute(conversation_id, body["name"])
            else:
                self.append(conversation_id, body if isinstance(body, list) else [body])
        except (KeyError, TypeError, ValueError) as error:
            return httpx.Response(400, json={"status": "failure", "message": str(error)})
        except SQLAlchemyError as error:  # Rasa answers 500 when its store cannot save
            return httpx.Response(500, json={"status": "failure", "message": str(error)})
        return httpx.Response(200, json={"sender_id": conversation_id})

    def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Store the events in order; pause and resume change the conversation's state."""
        for event in events:
            if event["event"] not in {"bot", "pause", "resume"}:
                raise ValueError(f"unexpected event {event['event']!r}")
            if event["event"] in {"pause", "resume"}:
                self.paused[conversation_id] = event["event"] == "pause"
        self.store(conversation_id, events)

    def execute(self, conversation_id: str, name: str) -> None:
        """Log the action as run (its replies come from the action server, not modelled here)."""
        self.actions.append((conversation_id, name, self.paused.get(conversation_id, False)))
        self.store(conversation_id, [{"event": "action", "name": name, "timestamp": time.time()}])

    def store(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Insert the rows SQLTrackerStore would write for these events."""
        rows = [
            {
                "sender_id": conversation_id,
                "type_name": event["event"],
                "timestamp": event.get("timestamp"),
                "intent_name": None,
                "action_name": event.get("name"),
                "data": json.dumps(event),
            }
            for event in events
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(events_table), rows)


@pytest.fixture
def rasa(migrated_url: str) -> Iterator[FakeRasa]:
    """The stand-in for Rasa on the test database."""
    fake = FakeRasa(migrated_url)
    yield fake
    fake.engine.dispose()


@pytest.fixture
def settings() -> Settings:
    """Settings with the stand-in's address and token and the default time limits."""
    return Settings(
        rasa_url="http://rasa.internal:5005/",
        rasa_api_token=TOKEN,
        handoff_claim_minutes=5,
        handoff_reply_minutes=5,
        handoff_live_minutes=10,
    )


@pytest.fixture
def opener(rasa: FakeRasa, settings: Settings) -> Callable[[str], Conversation]:
    """Opens a conversation whose HTTP client reaches the stand-in."""

    def open_conversation(conversation_id: str) -> Conversation:
        """A Conversation on the stand-in's transport."""
        client = httpx.Client(transport=httpx.MockTransport(rasa.handle))
        return Conversation(conversation_id, settings, client=client)

    return open_conversation


def visitor_wrote(session: Session, conversation_id: str, at: datetime) -> None:
    """The visitor's conversation on the website chat, last message at `at`."""
    script = Script(at - timedelta(seconds=8), channel="socketio")  # an event every 4 s
    script.listen().user("can I talk to a real person?", "request_human")  # the message at `at`
    write_conversation(session, conversation_id, script.events)
    session.commit()


def done(session: Session) -> None:
    """End the test session's transaction (on SQLite an open one holds the write lock)."""
    session.commit()


def events(session: Session, conversation_id: str = CID) -> list[StoredEvent]:
    """The conversation's events, freshly read."""
    done(session)
    rows = load_events(session, conversation_id)
    done(session)
    return rows


def added(session: Session, before: int, conversation_id: str = CID) -> list[StoredEvent]:
    """The events written after the first `before` ones."""
    return events(session, conversation_id)[before:]


def audit_entries(session: Session) -> list[AuditEntry]:
    """The handoff audit entries, oldest first."""
    done(session)
    query = select(AuditEntry).where(AuditEntry.action.like("handoff%")).order_by(AuditEntry.seq)
    entries = list(session.scalars(query))
    done(session)
    return entries


def stored(session: Session, handoff_id: int) -> Handoff:
    """The handoff row as committed."""
    done(session)
    session.expire_all()
    row = session.get(Handoff, handoff_id)
    done(session)
    return row


def handoff_of(event: StoredEvent) -> dict[str, Any]:
    """The handoff metadata of a bot event."""
    return event.data["metadata"]["handoff"]


# --- join ---------------------------------------------------------------------------------------


def test_join_pauses_then_says_who_joined(
    session: Session, opener: Callable, rasa: FakeRasa, ana: StaffUser
) -> None:
    """Joining a waiting request: claimed, paused, then the 'joined' notice, audited by id."""
    visitor_wrote(session, CID, NOW - 2 * MINUTE)
    request, _ = state.request(session, CID, "socketio", now=NOW - MINUTE)
    session.commit()
    before = len(events(session))

    handoff = takeover.join(session, opener, CID, ana, NOW, timedelta(minutes=10))
    session.commit()

    assert handoff.id == request.id
    row = stored(session, handoff.id)
    assert (row.status, row.claimed_by_id, row.claimed_at) == ("claimed", ana.id, NOW)
    assert row.requested_by == "visitor"
    pause, joined = added(session, before)
    assert (pause.type_name, joined.type_name) == ("pause", "bot")
    assert joined.data["text"] == notices.joined("Ana Ortiz")
    assert handoff_of(joined) == {"kind": "joined", "staff_name": "Ana Ortiz", "staff_id": ana.id}
    assert rasa.paused[CID] is True
    (entry,) = audit_entries(session)
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        "staff:ana",
        "handoff_claim",
        "conversation",
        CID,
    )
    assert entry.details == {"handoff_id": handoff.id}


def test_join_a_live_conversation_without_a_request(
    session: Session, opener: Callable, ana: StaffUser
) -> None:
    """A visitor who wrote recently can be joined: a staff request is opened and claimed."""
    visitor_wrote(session, CID, NOW - 9 * MINUTE)
    handoff = takeover.join(session, opener, CID, ana, NOW, timedelta(minutes=10))
    session.commit()
    row = stored(session, handoff.id)
    assert (row.status, row.requested_by, row.requested_by_staff_id) == ("claimed", "staff", ana.id)
    assert (row.channel, row.requested_at) == ("socketio", NOW)


def test_a_quiet_conversation_cannot_be_joined_without_a_request(
    session: Session, opener: Callable, rasa: FakeRasa, ana: StaffUser, settings: Settings
) -> None:
    """Quiet for longer than handoff_live_minutes: refused, nothing sent, no row, no audit."""
    live = timedelta(minutes=settings.handoff_live_minutes)
    visitor_wrote(session, CID, NOW - 11 * MINUTE)
    before = len(events(session))
    with pytest.raises(TakeoverError, match="has not written for over 10 minutes"):
        takeover.join(session, opener, CID, ana, NOW, live)
    with pytest.raises(TakeoverError, match="has not written anything"):
        takeover.join(session, opener, "no-such-visitor", ana, NOW, live)
    session.rollback()
    assert rasa.requests == 0 and len(events(session)) == before
    assert session.scalars(select(Handoff)).all() == []
    assert audit_entries(session) == []
    # with the visitor's own (still open) request, the same quiet conversation can be joined
    state.request(session, CID, "socketio", now=NOW - 12 * MINUTE)
    session.commit()
    assert takeover.join(session, opener, CID, ana, NOW, live).claimed_by_id == ana.id


def test_join_with_rasa_down_releases_the_claim(
    session: Session, opener: Callable, rasa: FakeRasa, ana: StaffUser, ben: StaffUser
) -> None:
    """The pause cannot be sent: TakeoverError, the request waits again, nothing audited."""
    visitor_wrote(session, CID, NOW - MINUTE)
    request, _ = state.request(session, CID, "socketio", now=NOW - MINUTE)
    session.commit()
    before = len(events(session))
    rasa.down = True
    with pytest.raises(TakeoverError, match=r"Nothing reached the visitor.*not reachable"):
        takeover.join(session, opener, CID, ana, NOW, timedelta(minutes=10))
    session.commit()
    row = stored(session, request.id)
    assert (row.status, row.claimed_by_id, row.claimed_at) == ("waiting", None, None)
    assert len(events(session)) == before and CID not in rasa.paused
    assert audit_entries(session) == []
    rasa.down = False  # once Rasa is back, anyone may join
    assert takeover.join(session, opener, CID, ben, NOW, timedelta(minutes=10)).id == request.id


def test_join_refused_by_rasa_cancels_the_request_it_opened(
    session: Session, rasa: FakeRasa, settings: Settings, ana: StaffUser
) -> None:
    """A wrong API token is refused by Rasa (401): same as Rasa being away.

    Nobody had asked for a person, so the request the join opened is cancelled, not left waiting.
    """
    visitor_wrote(session, CID, NOW - MINUTE)

    def wrong_token(conversation_id: str) -> Conversation:
        """A Conversation that sends the wrong token."""
        client = httpx.Client(transport=httpx.MockTransport(rasa.handle))
        return Conversation(conversation_id, settings.copy(update={"rasa_api_token": "x"}), client)

    with pytest.raises(TakeoverError, match=r"refused the change \(HTTP 401\)"):
        takeover.join(session, wrong_token, CID, ana, NOW, timedelta(minutes=10))
    row = session.scalars(select(Handoff)).one()
    assert (row.status, row.outcome) == ("closed", "cancelled")
    assert audit_entries(session) == []


def test_a_second_navigator_cannot_join(
    session: Session, opener: Callable, rasa: FakeRasa, ana: StaffUser, ben: StaffUser
) -> None:
    """Ben cannot join while Ana holds the conversation; nothing is sent for him."""
    visitor_wrote(session, CID, NOW - MINUTE)
    takeover.join(session, opener, CID, ana, NOW, timedelta(minutes=10))
    session.commit()
    before = len(events(session))
    with pytest.raises(TakeoverError, match="already joined"):
        takeover.join(session, opener, CID, ben, NOW, timedelta(minutes=10))
    session.rollback()
    assert len(events(session)) == before
    assert [e.action for e in audit_entries(session)] == ["handoff_claim"]


# --- messages -------------------------------------------------------------------------------------


@pytest.fixture
def joined(session: Session, opener: Callable, ana: StaffUser) -> Handoff:
    """Ana has joined the visitor's live conversation at NOW."""
    visitor_wrote(session, CID, NOW - MINUTE)
    handoff = takeover.join(session, opener, CID, ana, NOW, timedelta(minutes=10))
    session.commit()
    return handoff


def test_staff_messages_reach_the_visitor(
    session: Session, opener: Callable, joined: Handoff, ana: StaffUser
) -> None:
    """Each message is a bot event signed by the navigator; the row counts them; audit has ids."""
    before = len(events(session))
    takeover.send(session, opener, CID, ana, "  Hi, I'm Ana. How can I help?  ", NOW + MINUTE)
    session.commit()
    takeover.send(session, opener, CID, ana, PRIVATE + "\nLine two\twith a tab", NOW + 2 * MINUTE)
    session.commit()

    first, second = added(session, before)
    assert first.type_name == second.type_name == "bot"
    assert first.data["text"] == "Hi, I'm Ana. How can I help?"
    assert second.data["text"] == PRIVATE + "\nLine two\twith a tab"
    assert handoff_of(first) == {
        "kind": "staff_message",
        "staff_name": "Ana Ortiz",
        "staff_id": ana.id,
    }
    row = stored(session, joined.id)
    assert (row.staff_messages, row.last_staff_message_at) == (2, NOW + 2 * MINUTE)
    entries = audit_entries(session)
    assert [e.action for e in entries] == ["handoff_claim", "handoff_message", "handoff_message"]
    assert all(e.details == {"handoff_id": joined.id} for e in entries)
    assert "oncologist" not in json.dumps([e.details for e in entries])


def test_a_message_from_someone_who_does_not_hold_it_is_refused(
    session: Session, opener: Callable, rasa: FakeRasa, joined: Handoff, ben: StaffUser
) -> None:
    """Ben has not joined: refused, nothing sent, nothing counted or audited."""
    before, requests = len(events(session)), rasa.requests
    with pytest.raises(TakeoverError, match="Another team member"):
        takeover.send(session, opener, CID, ben, "Hello from Ben", NOW + MINUTE)
    with pytest.raises(TakeoverError, match="Join the conversation"):
        takeover.send(session, opener, "other-visitor", ben, "Hello", NOW + MINUTE)
    session.rollback()
    assert rasa.requests == requests and len(events(session)) == before
    assert stored(session, joined.id).staff_messages == 0
    assert [e.action for e in audit_entries(session)] == ["handoff_claim"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Write a message first"),
        (" \n\t ", "Write a message first"),
        ("x" * (MAX_MESSAGE + 1), rf"under {MAX_MESSAGE} characters \(this one has 1001\)"),
        ("Hello\x07there", "control characters"),
        ("Hello\x1b[31mthere", "control characters"),
        ("Hello\rthere", "control characters"),
    ],
)
def test_message_text_is_checked_before_anything_is_sent(
    session: Session,
    opener: Callable,
    rasa: FakeRasa,
    joined: Handoff,
    ana: StaffUser,
    text: str,
    reason: str,
) -> None:
    """Empty, too long or with control characters: refused before Rasa is asked."""
    before, requests = len(events(session)), rasa.requests
    with pytest.raises(TakeoverError, match=reason):
        takeover.send(session, opener, CID, ana, text, NOW + MINUTE)
    session.rollback()
    assert rasa.requests == requests and len(events(session)) == before
    assert stored(session, joined.id).staff_messages == 0


def test_the_longest_message_is_accepted(
    session: Session, opener: Callable, joined: Handoff, ana: StaffUser
) -> None:
    """Exactly MAX_MESSAGE characters is allowed."""
    before = len(events(session))
    takeover.send(session, opener, CID, ana, "y" * MAX_MESSAGE, NOW + MINUTE)
    session.commit()
    (message,) = added(session, before)
    assert len(message.data["text"]) == MAX_MESSAGE


def test_a_message_rasa_does_not_take_is_not_counted(
    session: Session, opener: Callable, rasa: FakeRasa, joined: Handoff, ana: StaffUser
) -> None:
    """Rasa away: TakeoverError, the message is not counted and the reply clock does not move."""
    rasa.down = True
    with pytest.raises(TakeoverError, match="Nothing reached the visitor"):
        takeover.send(session, opener, CID, ana, "Are you still there?", NOW + MINUTE)
    session.rollback()
    row = stored(session, joined.id)
    assert (row.staff_messages, row.last_staff_message_at) == (0, None)
    assert [e.action for e in audit_entries(session)] == ["handoff_claim"]


# --- hand back --------------------------------------------------------------------------------


def test_hand_back_keeps_the_note_for_staff_only(
    session: Session, opener: Callable, rasa: FakeRasa, joined: Handoff, ana: StaffUser
) -> None:
    """Notice, resume, then action_handback; the note is on the row, never sent or audited."""
    before = len(events(session))
    takeover.hand_back(session, opener, CID, ana, f"  {NOTE}  ", NOW + 3 * MINUTE)
    session.commit()

    notice, resume, action = added(session, before)
    assert (notice.type_name, resume.type_name, action.type_name) == ("bot", "resume", "action")
    assert notice.data["text"] == notices.handed_back("Ana Ortiz")
    assert handoff_of(notice)["kind"] == "handed_back"
    assert action.data["name"] == takeover.HANDBACK_ACTION
    assert rasa.actions == [(CID, "action_handback", False)]  # run after the resume
    row = stored(session, joined.id)
    assert (row.status, row.outcome, row.note) == ("closed", "handed_back", NOTE)
    assert row.closed_at == NOW + 3 * MINUTE
    everything = json.dumps([e.data for e in events(session)])
    assert "biopsy" not in everything and "Tuesday" not in everything
    entries = audit_entries(session)
    assert entries[-1].action == "handoff_hand_back"
    assert entries[-1].details == {"handoff_id": joined.id, "note": True}
    assert "biopsy" not in json.dumps([e.details for e in entries])


def test_hand_back_without_a_note(
    session: Session, opener: Callable, joined: Handoff, ana: StaffUser
) -> None:
    """A blank note is stored as none."""
    takeover.hand_back(session, opener, CID, ana, "   ", NOW + MINUTE)
    session.commit()
    assert stored(session, joined.id).note is None
    assert audit_entries(session)[-1].details == {"handoff_id": joined.id, "note": False}


def test_hand_back_by_someone_else(
    session: Session, opener: Callable, rasa: FakeRasa, joined: Handoff, ben: StaffUser
) -> None:
    """Only the holder hands back, unless allowed to override (e.g. an admin)."""
    before = len(events(session))
    with pytest.raises(TakeoverError, match="Another team member"):
        takeover.hand_back(session, opener, CID, ben, "", NOW + MINUTE)
    session.rollback()
    assert len(events(session)) == before and stored(session, joined.id).status == "claimed"
    takeover.hand_back(session, opener, CID, ben, "", NOW + MINUTE, may_override=True)
    session.commit()
    assert stored(session, joined.id).outcome == "handed_back"
    assert audit_entries(session)[-1].actor == "staff:ben"
    with pytest.raises(TakeoverError, match="nothing to hand back"):
        takeover.hand_back(session, opener, CID, ben, "", NOW + 2 * MINUTE)


def test_hand_back_with_rasa_down_keeps_the_conversation(
    session: Session, opener: Callable, rasa: FakeRasa, joined: Handoff, ana: StaffUser
) -> None:
    """Rasa away: still claimed, no note kept, nothing audited; a retry succeeds."""
    rasa.down = True
    with pytest.raises(TakeoverError, match="Nothing reached the visitor"):
        takeover.hand_back(session, opener, CID, ana, NOTE, NOW + MINUTE)
    session.rollback()
    row = stored(session, joined.id)
    assert (row.status, row.note) == ("claimed", None)
    assert [e.action for e in audit_entries(session)] == ["handoff_claim"]
    rasa.down = False
    takeover.hand_back(session, opener, CID, ana, NOTE, NOW + 2 * MINUTE)
    session.commit()
    assert stored(session, joined.id).note == NOTE


# --- the watcher's time limits ------------------------------------------------------------------


@pytest.fixture
def watcher_pass(make_session: sessionmaker, opener: Callable, settings: Settings) -> WatcherPass:
    """One pass of the time limits at a given time; how many handoffs it closed."""
    return lambda at: watcher.apply_limits(make_session, opener, at, settings)


def watcher_entries(session: Session) -> list[AuditEntry]:
    """The watcher's audit entries."""
    return [e for e in audit_entries(session) if e.actor == watcher.ACTOR]


def test_an_unclaimed_request_falls_back(
    session: Session, rasa: FakeRasa, watcher_pass: WatcherPass
) -> None:
    """Nobody claimed it in time: closed as unclaimed and the fallback action run, no resume."""
    visitor_wrote(session, CID, NOW - 6 * MINUTE)
    request, _ = state.request(session, CID, "socketio", now=NOW - 5 * MINUTE)
    session.commit()
    before = len(events(session))
    assert watcher_pass(NOW - MINUTE) == 0  # not yet due
    assert stored(session, request.id).status == "waiting"

    assert watcher_pass(NOW) == 1
    (action,) = added(session, before)
    assert (action.type_name, action.data["name"]) == ("action", "action_handoff_fallback")
    assert rasa.actions == [(CID, "action_handoff_fallback", False)]
    row = stored(session, request.id)
    assert (row.status, row.outcome, row.closed_at) == ("closed", "unclaimed", NOW)
    (entry,) = watcher_entries(session)
    assert (entry.action, entry.target_id, entry.details) == (
        "handoff_fallback",
        CID,
        {"handoff_id": request.id},
    )
    assert watcher_pass(NOW + MINUTE) == 0  # done once


def test_a_claimed_chat_with_no_reply_resumes_then_falls_back(
    session: Session,
    opener: Callable,
    rasa: FakeRasa,
    joined: Handoff,
    ana: StaffUser,
    watcher_pass: WatcherPass,
) -> None:
    """The reply clock runs from the last staff message; when it runs out: resume, then action."""
    takeover.send(session, opener, CID, ana, "Let me check that for you.", NOW + 2 * MINUTE)
    session.commit()
    before = len(events(session))
    assert watcher_pass(NOW + 6 * MINUTE) == 0  # 4 min silent
    assert stored(session, joined.id).status == "claimed"

    assert watcher_pass(NOW + 7 * MINUTE) == 1
    resume, action = added(session, before)
    assert (resume.type_name, action.type_name) == ("resume", "action")
    assert action.data["name"] == "action_handoff_fallback"
    assert rasa.actions == [(CID, "action_handoff_fallback", False)]
    assert rasa.paused[CID] is False
    row = stored(session, joined.id)
    assert (row.status, row.outcome, row.closed_at) == ("closed", "no_reply", NOW + 7 * MINUTE)
    assert [e.details for e in watcher_entries(session)] == [{"handoff_id": joined.id}]
    with pytest.raises(TakeoverError, match="Join the conversation"):
        takeover.send(session, opener, CID, ana, "Sorry, I'm back", NOW + 8 * MINUTE)


@pytest.mark.parametrize("claimed", [False, True], ids=["unclaimed", "no_reply"])
def test_with_rasa_down_the_handoff_stays_open_and_is_retried(
    session: Session,
    opener: Callable,
    rasa: FakeRasa,
    ana: StaffUser,
    watcher_pass: WatcherPass,
    claimed: bool,
) -> None:
    """Rasa away: nothing changes and nothing is audited; the next pass does the fallback."""
    visitor_wrote(session, CID, NOW - 20 * MINUTE)
    handoff, _ = state.request(session, CID, "socketio", now=NOW - 20 * MINUTE)
    session.commit()
    if claimed:
        takeover.join(session, opener, CID, ana, NOW - 15 * MINUTE, timedelta(minutes=10))
        session.commit()
    status = "claimed" if claimed else "waiting"
    before = len(events(session))

    rasa.down = True
    assert watcher_pass(NOW) == 0
    row = stored(session, handoff.id)
    assert (row.status, row.outcome, row.closed_at) == (status, None, None)
    assert len(events(session)) == before and watcher_entries(session) == []

    rasa.down = False
    assert watcher_pass(NOW + MINUTE) == 1
    row = stored(session, handoff.id)
    assert (row.status, row.outcome) == ("closed", "no_reply" if claimed else "unclaimed")
    kinds = [e.type_name for e in added(session, before)]
    assert kinds == (["resume", "action"] if claimed else ["action"])
    assert rasa.actions == [(CID, "action_handoff_fallback", False)]
    assert len(watcher_entries(session)) == 1


def test_an_action_rasa_does_not_run_is_retried_after_resuming_again(
    session: Session, rasa: FakeRasa, joined: Handoff, watcher_pass: WatcherPass
) -> None:
    """Resumed, but the action refused: the handoff is open again; the next pass completes it."""
    before = len(events(session))
    rasa.refuse = {"execute"}
    assert watcher_pass(NOW + 6 * MINUTE) == 0
    row = stored(session, joined.id)
    assert (row.status, row.outcome, row.claimed_by_id) == ("claimed", None, joined.claimed_by_id)
    assert watcher_entries(session) == [] and rasa.actions == []

    rasa.refuse = set()
    assert watcher_pass(NOW + 7 * MINUTE) == 1
    assert [e.type_name for e in added(session, before)] == ["resume", "resume", "action"]
    assert stored(session, joined.id).outcome == "no_reply"
    assert rasa.actions == [(CID, "action_handoff_fallback", False)]
    assert len(watcher_entries(session)) == 1


def test_several_overdue_conversations_in_one_pass(
    session: Session, opener: Callable, rasa: FakeRasa, ana: StaffUser, watcher_pass: WatcherPass
) -> None:
    """One pass handles every overdue handoff, claimed and unclaimed alike."""
    for conversation_id in ("c-1", "c-2", "c-3"):
        visitor_wrote(session, conversation_id, NOW - 20 * MINUTE)
        state.request(session, conversation_id, "socketio", now=NOW - 20 * MINUTE)
        session.commit()
    takeover.join(session, opener, "c-2", ana, NOW - 15 * MINUTE, timedelta(minutes=10))
    session.commit()
    assert watcher_pass(NOW) == 3
    assert sorted(rasa.actions) == [
        (c, "action_handoff_fallback", False) for c in ("c-1", "c-2", "c-3")
    ]
    assert state.waiting_count(session) == 0
    assert not any(state.open_handoff(session, c) for c in ("c-1", "c-2", "c-3"))
