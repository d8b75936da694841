"""Handoff rows and the team's alert emails, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from threading import Barrier

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.booking.availability import add_time_off, navigators_on_duty, team_back_at
from bot.db.handoffs import Handoff
from bot.db.models import Navigator, OutboxMessage
from bot.db.staff import StaffUser
from bot.handoff import alerts, state
from bot.handoff.state import HandoffError
from tests.support.conversations import Script, write_conversation
from tests.support.team import MONDAY, SATURDAY, WEEKDAYS, navigator, weekday_team

HEALTH_DETAIL = "my mother's chemo was stopped after the biopsy"
MINUTE = timedelta(minutes=1)


def handoff_count(session: Session, *conditions: object) -> int:
    """How many handoff rows match."""
    return session.scalar(select(func.count()).select_from(Handoff).where(*conditions))


# --- one open request per conversation ------------------------------------------------------


def test_request_is_idempotent_per_conversation(session: Session) -> None:
    """A second request returns the open one; another conversation gets its own."""
    first, new = state.request(session, "conv-1", "socketio", now=MONDAY)
    again, new_again = state.request(session, "conv-1", "telegram", now=MONDAY + MINUTE)
    other, other_new = state.request(session, "conv-2", "telegram", now=MONDAY)
    session.commit()
    assert (new, new_again, other_new) == (True, False, True)
    assert again.id == first.id != other.id
    stored = session.get(Handoff, first.id)
    assert (stored.status, stored.channel, stored.requested_by) == (
        "waiting",
        "socketio",
        "visitor",
    )
    assert stored.requested_at == MONDAY and stored.staff_messages == 0
    assert handoff_count(session) == 2


def test_a_closed_request_makes_room_for_a_new_one(session: Session) -> None:
    """After closing, the next request opens a fresh row; the old one stays on record."""
    first, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    state.close(session, first, "out_of_hours", now=MONDAY)
    second, new = state.request(session, "conv-1", "socketio", now=MONDAY + MINUTE)
    session.commit()
    assert new and second.id != first.id
    assert state.latest_handoff(session, "conv-1").id == second.id
    assert state.open_handoff(session, "conv-1").id == second.id


def test_the_unique_index_refuses_a_second_open_row(session: Session) -> None:
    """Inserted directly, a second waiting or claimed row for one conversation is refused."""
    session.add(Handoff(conversation_id="conv-1", channel="socketio", status="waiting"))
    session.commit()
    for status in ("waiting", "claimed"):
        session.add(Handoff(conversation_id="conv-1", channel="socketio", status=status))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    # closed rows are not limited, and another conversation is independent
    session.add_all(
        [
            Handoff(conversation_id="conv-1", channel="socketio", status="closed"),
            Handoff(conversation_id="conv-1", channel="socketio", status="closed"),
            Handoff(conversation_id="conv-2", channel="socketio", status="waiting"),
        ]
    )
    session.commit()
    assert handoff_count(session, Handoff.conversation_id == "conv-1") == 3
    assert handoff_count(session, Handoff.status != "closed") == 2


def test_racing_requests_open_one_row(make_session: sessionmaker) -> None:
    """Four requests at the same moment, each in its own transaction: one row, one `new`."""
    start = Barrier(4)

    def ask(channel: str) -> tuple[int, bool]:
        """One request in its own session, started with the others."""
        with make_session() as db:
            start.wait()
            handoff, new = state.request(db, "conv-race", channel, now=MONDAY)
            db.commit()
            return handoff.id, new

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(ask, ["socketio", "telegram", "socketio", "telegram"]))
    assert len({handoff_id for handoff_id, _ in results}) == 1
    assert sum(new for _, new in results) == 1
    with make_session() as db:
        assert handoff_count(db) == 1


# --- claims ---------------------------------------------------------------------------------


def test_claim_by_one_then_another_is_refused(
    session: Session, ana: StaffUser, ben: StaffUser
) -> None:
    """The first claim wins; the same person claiming again is fine; a second person is not."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    session.commit()
    state.claim(session, handoff, ana.id, MONDAY + MINUTE)
    session.commit()
    state.claim(session, handoff, ana.id, MONDAY + 2 * MINUTE)
    with pytest.raises(HandoffError, match="already joined"):
        state.claim(session, handoff, ben.id, MONDAY + 2 * MINUTE)
    session.commit()
    stored = session.get(Handoff, handoff.id)
    assert (stored.status, stored.claimed_by_id) == ("claimed", ana.id)
    assert stored.claimed_at == MONDAY + MINUTE
    assert state.require_claimed_by(stored, ana.id) is stored
    with pytest.raises(HandoffError, match="Another team member"):
        state.require_claimed_by(stored, ben.id)


def test_claim_through_a_stale_copy_is_refused(
    make_session: sessionmaker, ana: StaffUser, ben: StaffUser
) -> None:
    """Two staff sessions load the waiting row; the one claiming second is refused."""
    with make_session() as db:
        handoff_id = state.request(db, "conv-1", "socketio", now=MONDAY)[0].id
        db.commit()
    with make_session() as first, make_session() as second:
        mine = first.get(Handoff, handoff_id)
        first.commit()  # each read ends its transaction: on SQLite it holds the write lock
        theirs = second.get(Handoff, handoff_id)
        second.commit()
        state.claim(first, mine, ana.id, MONDAY)
        first.commit()
        assert theirs.status == "waiting"  # still the stale copy
        with pytest.raises(HandoffError, match="already joined"):
            state.claim(second, theirs, ben.id, MONDAY)
        assert theirs.claimed_by_id == ana.id  # refreshed by the refusal
        second.rollback()


def test_claim_of_a_closed_request_is_refused(session: Session, ana: StaffUser) -> None:
    """A closed request cannot be joined."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    assert state.close(session, handoff, "cancelled", now=MONDAY)
    session.commit()
    with pytest.raises(HandoffError, match="closed"):
        state.claim(session, handoff, ana.id, MONDAY)
    assert session.get(Handoff, handoff.id).claimed_by_id is None
    with pytest.raises(HandoffError, match="Join the conversation"):
        state.require_claimed_by(handoff, ana.id)
    with pytest.raises(HandoffError, match="Join the conversation"):
        state.require_claimed_by(None, ana.id)


def test_release_claim_lets_another_navigator_join(
    make_session: sessionmaker, ana: StaffUser, ben: StaffUser
) -> None:
    """A released claim is waiting again, with no claimant, and can be claimed by someone else."""
    with make_session() as db:
        handoff, _ = state.request(db, "conv-1", "socketio", now=MONDAY)
        state.claim(db, handoff, ana.id, MONDAY)
        db.commit()
        state.release_claim(db, handoff)
        db.commit()
    with make_session() as db:
        stored = db.get(Handoff, handoff.id)
        assert (stored.status, stored.claimed_by_id, stored.claimed_at) == ("waiting", None, None)
        state.claim(db, stored, ben.id, MONDAY + MINUTE)
        db.commit()
        assert db.get(Handoff, handoff.id).claimed_by_id == ben.id


def test_staff_messages_are_counted(session: Session, ana: StaffUser) -> None:
    """Each staff message counts and moves the reply clock."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    state.claim(session, handoff, ana.id, MONDAY)
    state.note_staff_message(session, handoff, MONDAY + MINUTE)
    state.note_staff_message(session, handoff, MONDAY + 3 * MINUTE)
    session.commit()
    session.expire_all()
    stored = session.get(Handoff, handoff.id)
    assert (stored.staff_messages, stored.last_staff_message_at) == (2, MONDAY + 3 * MINUTE)


def test_close_returns_false_the_second_time(session: Session, ana: StaffUser) -> None:
    """The first close wins: its outcome, time and note stay."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    state.claim(session, handoff, ana.id, MONDAY)
    assert state.close(session, handoff, "handed_back", note="call Tue", now=MONDAY + MINUTE)
    assert not state.close(session, handoff, "no_reply", now=MONDAY + 2 * MINUTE)
    session.commit()
    session.expire_all()
    stored = session.get(Handoff, handoff.id)
    assert (stored.status, stored.outcome, stored.note) == ("closed", "handed_back", "call Tue")
    assert stored.closed_at == MONDAY + MINUTE
    assert state.open_handoff(session, "conv-1") is None


def test_reopen_undoes_a_close_unless_a_new_request_is_open(session: Session) -> None:
    """A reopened handoff is open again with no outcome; not when a newer one is open."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    state.close(session, handoff, "unclaimed", now=MONDAY + MINUTE)
    assert state.reopen(session, handoff, "waiting")
    session.commit()
    assert (handoff.status, handoff.outcome, handoff.closed_at) == ("waiting", None, None)
    assert not state.reopen(session, handoff, "waiting")  # not closed: nothing to undo
    state.close(session, handoff, "unclaimed", now=MONDAY + 2 * MINUTE)
    newer, _ = state.request(session, "conv-1", "socketio", now=MONDAY + 3 * MINUTE)
    assert not state.reopen(session, handoff, "waiting")
    session.commit()
    assert (handoff.status, handoff.outcome) == ("closed", "unclaimed")
    assert state.open_handoff(session, "conv-1").id == newer.id


def test_waiting_count_and_open_handoffs(session: Session, ana: StaffUser) -> None:
    """Waiting ones are counted; only waiting and claimed handoffs are open."""
    assert state.waiting_count(session) == 0
    for conversation_id in ("c-wait-1", "c-wait-2", "c-claimed", "c-closed"):
        state.request(session, conversation_id, "socketio", now=MONDAY)
    state.claim(session, state.open_handoff(session, "c-claimed"), ana.id, MONDAY)
    state.close(session, state.open_handoff(session, "c-closed"), "cancelled", now=MONDAY)
    session.commit()
    assert state.waiting_count(session) == 2
    asked = ["c-wait-1", "c-claimed", "c-closed", "c-never"]
    states = {c: h.status for c in asked if (h := state.open_handoff(session, c))}
    assert states == {"c-wait-1": "waiting", "c-claimed": "claimed"}


# --- time limits ----------------------------------------------------------------------------


def test_overdue_picks_unclaimed_and_silent_claims(
    session: Session, make_session: sessionmaker, ana: StaffUser
) -> None:
    """Unclaimed after claim_within; no reply within reply_within of the last staff message."""
    now = MONDAY + 30 * MINUTE

    def ask(conversation_id: str, minutes_ago: int) -> Handoff:
        """A request made `minutes_ago` before now."""
        return state.request(session, conversation_id, "socketio", now=now - minutes_ago * MINUTE)[
            0
        ]

    ask("waiting-6", 6)
    ask("waiting-5", 5)  # exactly at the limit: overdue
    ask("waiting-4", 4)
    silent = ask("claimed-silent", 20)
    state.claim(session, silent, ana.id, now - 6 * MINUTE)
    recent = ask("claimed-recent-reply", 20)
    state.claim(session, recent, ana.id, now - 15 * MINUTE)
    state.note_staff_message(session, recent, now - 2 * MINUTE)
    stale = ask("claimed-stale-reply", 20)
    state.claim(session, stale, ana.id, now - 15 * MINUTE)
    state.note_staff_message(session, stale, now - 6 * MINUTE)
    fresh = ask("claimed-fresh", 20)
    state.claim(session, fresh, ana.id, now - MINUTE)
    state.close(session, ask("closed", 60), "cancelled", now=now - 50 * MINUTE)
    session.commit()

    with make_session() as db:  # read back as stored, not from this session's objects
        due = state.overdue(db, now, claim_within=5 * MINUTE, reply_within=5 * MINUTE)
        found = {handoff.conversation_id: outcome for handoff, outcome in due}
    assert found == {
        "waiting-6": "unclaimed",
        "waiting-5": "unclaimed",
        "claimed-silent": "no_reply",
        "claimed-stale-reply": "no_reply",
    }


# --- who is on duty, and the alert emails ------------------------------------------------------


@pytest.fixture
def team(session: Session) -> list[Navigator]:
    """Five navigators: on duty on MONDAY are east and central only."""
    team = weekday_team(session)
    navigator(session, "retired@pilotrock.example", "America/New_York", WEEKDAYS, active=False)
    away = navigator(session, "away@pilotrock.example", "America/New_York", WEEKDAYS)
    add_time_off(session, away.email, MONDAY - timedelta(hours=2), MONDAY + timedelta(hours=2))
    session.commit()
    return team


def outbox(session: Session) -> list[OutboxMessage]:
    """Every queued message, oldest first."""
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_on_duty_and_back_at(session: Session, team: list[Navigator]) -> None:
    """Monday 10:30 New York: east and central; Saturday: nobody until Monday 09:00 New York."""
    east, central, _west = team
    assert [n.email for n in navigators_on_duty(session, MONDAY)] == [east.email, central.email]
    assert team_back_at(session, MONDAY) == MONDAY
    assert navigators_on_duty(session, SATURDAY) == []
    assert team_back_at(session, SATURDAY) == datetime(2030, 1, 7, 14, 0, tzinfo=timezone.utc)


def test_back_at_is_none_without_hours(session: Session) -> None:
    """No navigator with hours in the next two weeks: nobody is back."""
    navigator(session, "none@pilotrock.example", "America/New_York", {})
    assert navigators_on_duty(session, MONDAY) == []
    assert team_back_at(session, MONDAY) is None


def test_alert_emails_each_navigator_on_duty(
    session: Session, team: list[Navigator], staff_url: str
) -> None:
    """One outbox email per navigator on duty, with the staff link and no conversation text."""
    script = Script(MONDAY - 3 * MINUTE, channel="socketio").listen()
    write_conversation(session, "conv-1", script.user(HEALTH_DETAIL, "situation").events)
    handoff, _ = state.request(session, "conv-1", "socketio", now=MONDAY)
    assert alerts.alert_on_duty(session, handoff, MONDAY) == 2
    session.commit()
    messages = outbox(session)
    assert [m.recipient for m in messages] == [team[0].email, team[1].email]
    for message in messages:
        assert (message.kind, message.status, message.subject) == (
            "handoff_request",
            "pending",
            alerts.SUBJECT,
        )
        assert f"{staff_url}/handoffs" in message.body_text
        assert "Channel: socketio" in message.body_text
        assert "Asked at: 2030-01-07 15:30 UTC" in message.body_text
        for word in ("chemo", "biopsy", "mother", "conv-1"):
            assert word not in message.body_text and word not in message.subject


def test_no_alert_out_of_hours(session: Session, team: list[Navigator], staff_url: str) -> None:
    """Saturday: nobody is on duty, so nothing is queued."""
    handoff, _ = state.request(session, "conv-1", "socketio", now=SATURDAY)
    assert alerts.alert_on_duty(session, handoff, SATURDAY) == 0
    session.commit()
    assert outbox(session) == []
