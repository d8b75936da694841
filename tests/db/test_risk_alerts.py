"""The team hears of each risk detection once, through the outbox, and the inbox row is marked."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.booking.availability import navigators_on_duty
from bot.conversations import risk_alerts as alerts
from bot.conversations.index import ALERT_WINDOW, index_conversations, rebuild_index, refresh_index
from bot.db.models import OutboxMessage, utcnow
from bot.db.reviews import ConversationIndex
from bot.rasa.events import load_events
from tests.support.conversations import Script, greeting, visitor_event, write_conversation
from tests.support.indexing import index_pending
from tests.support.risk import risk, risky
from tests.support.team import MONDAY, SATURDAY, STAFF_URL, navigator, weekday_team

MINUTE = timedelta(minutes=1)
CRISIS_TEXT = "i wrote letters to my kids and i have the pills ready for tonight"
ACUTE_TEXT = "my dad just collapsed and his lips are going blue"
CALM_TEXT = "my dad had a heart attack two years ago, how does a second opinion work?"
VISITOR_WORDS = ("letters", "pills", "tonight", "collapsed", "lips", "blue", "heart")
RISK_WORDS = ("crisis", "acute", "unclear", "suicid", "self-harm", "overdose")
pytestmark = pytest.mark.usefixtures("staff_url")  # alert emails link to the staff app


@pytest.fixture
def team(session: Session) -> list[str]:
    """Three navigators; on duty on MONDAY are east and central only: their emails."""
    east, central, _west = weekday_team(session)
    return [east.email, central.email]


def alerts_queued(session: Session) -> list[OutboxMessage]:
    """Every queued risk alert, oldest first."""
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == alerts.RISK_KIND)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def row_of(session: Session, conversation_id: str) -> ConversationIndex:
    """The conversation's index row, as stored."""
    session.expire_all()
    row = session.get(ConversationIndex, conversation_id)
    assert row is not None
    return row


def crisis_chat(session: Session, start: datetime, conversation_id: str = "conv-risk") -> int:
    """A greeting, then a message the NLU flagged as a crisis (high risk); its event id."""
    script = greeting(Script(start, channel="socketio"))
    annotation = risk("crisis", 0.93, "high", "crisis", ("model",))
    write_conversation(session, conversation_id, risky(script, CRISIS_TEXT, annotation).events)
    session.commit()
    return visitor_event(session, conversation_id, CRISIS_TEXT)


def more(session: Session, start: datetime, text: str, annotation: dict | None) -> int:
    """A later message of conv-risk (with its reply); its event id."""
    script = risky(Script(start, channel="socketio"), text, annotation).utter("utter_greet")
    write_conversation(session, "conv-risk", script.listen().events)
    session.commit()
    return visitor_event(session, "conv-risk", text)


def test_a_detection_alerts_each_navigator_on_duty_once(session: Session, team: list[str]) -> None:
    event_id = crisis_chat(session, MONDAY - 3 * MINUTE)
    refresh_index(session, now=MONDAY)
    session.commit()
    queued = alerts_queued(session)
    assert [m.recipient for m in queued] == team
    row = row_of(session, "conv-risk")
    assert row.emergency and row.risk_alerted_event_id == event_id
    detected = next(e.at for e in load_events(session, "conv-risk") if e.id == event_id)
    assert MONDAY - 3 * MINUTE < detected < MONDAY
    for message in queued:
        assert (message.kind, message.status, message.subject) == (
            "risk_alert",
            "pending",
            "A visitor may be in danger: please check the chat now",
        )
        assert f"{STAFF_URL}/events/{event_id}\n" in message.body_text
        assert "Channel: socketio" in message.body_text
        assert f"Detected at: {detected:%Y-%m-%d %H:%M} UTC\n" in message.body_text
        shown = (message.subject + message.body_text).lower()
        for word in (*VISITOR_WORDS, *RISK_WORDS, "conv-risk"):
            assert word not in shown, word


def test_reindexing_the_same_detection_alerts_no_one_again(
    session: Session, team: list[str]
) -> None:
    crisis_chat(session, MONDAY - 3 * MINUTE)
    refresh_index(session, now=MONDAY)
    session.commit()
    assert refresh_index(session, now=MONDAY + MINUTE) == 0  # nothing new: the row is current
    index_conversations(session, ["conv-risk", "conv-risk"], now=MONDAY + MINUTE)
    more(session, MONDAY + 2 * MINUTE, "ok thank you", risk("none", 0.08, "none"))
    assert refresh_index(session, now=MONDAY + 3 * MINUTE) == 1  # re-summarised, no new detection
    session.commit()
    assert len(alerts_queued(session)) == 2
    assert row_of(session, "conv-risk").emergency


def test_a_later_detection_alerts_again(session: Session, team: list[str]) -> None:
    crisis_chat(session, MONDAY - 3 * MINUTE)
    refresh_index(session, now=MONDAY)
    session.commit()
    second = more(
        session, MONDAY + 10 * MINUTE, ACUTE_TEXT, risk("acute", 0.45, "moderate", "acute")
    )
    refresh_index(session, now=MONDAY + 11 * MINUTE)
    session.commit()
    queued = alerts_queued(session)
    assert [m.recipient for m in queued] == team * 2
    assert all(f"/events/{second}\n" in m.body_text for m in queued[2:])
    assert row_of(session, "conv-risk").risk_alerted_event_id == second


def test_a_rebuild_sends_nothing_again(
    session: Session, make_session: sessionmaker, team: list[str]
) -> None:
    event_id = crisis_chat(session, MONDAY - 3 * MINUTE)
    refresh_index(session, now=MONDAY)
    session.commit()
    assert rebuild_index(make_session, now=MONDAY + MINUTE) == 1  # the row keeps its watermark
    session.execute(delete(ConversationIndex))  # an index rebuilt from nothing, an hour later
    session.commit()
    assert rebuild_index(make_session, now=MONDAY + 60 * MINUTE) == 1
    assert len(alerts_queued(session)) == 2
    row = row_of(session, "conv-risk")
    assert row.emergency and row.risk_alerted_event_id == event_id  # marked: never alerted again
    session.commit()  # end the read (SQLite: each transaction takes the write lock)
    assert rebuild_index(make_session, now=MONDAY + 2 * MINUTE) == 1
    assert len(alerts_queued(session)) == 2


def test_a_detection_first_read_too_late_is_marked_without_alerting(
    session: Session, team: list[str]
) -> None:
    event_id = crisis_chat(session, MONDAY - ALERT_WINDOW - 2 * MINUTE)
    refresh_index(session, now=MONDAY)
    session.commit()
    assert alerts_queued(session) == []
    row = row_of(session, "conv-risk")
    assert row.emergency and row.risk_alerted_event_id == event_id


def test_no_risk_level_means_no_alert_and_no_flag(session: Session, team: list[str]) -> None:
    for conversation_id, annotation in (
        ("conv-calm", risk("none", 0.21, "none")),
        ("conv-old", None),
    ):
        script = greeting(Script(MONDAY - 3 * MINUTE))
        write_conversation(session, conversation_id, risky(script, CALM_TEXT, annotation).events)
    session.commit()
    refresh_index(session, now=MONDAY)
    session.commit()
    assert alerts_queued(session) == []
    for conversation_id in ("conv-calm", "conv-old"):
        row = row_of(session, conversation_id)
        assert not row.emergency and row.risk_alerted_event_id is None


def test_nobody_on_duty_gets_nothing_and_the_detection_stays_marked(
    session: Session, team: list[str]
) -> None:
    event_id = crisis_chat(session, SATURDAY - MINUTE)
    refresh_index(session, now=SATURDAY)
    session.commit()
    assert alerts_queued(session) == []
    assert row_of(session, "conv-risk").risk_alerted_event_id == event_id


def test_the_index_consumer_alerts_as_of_now(session: Session) -> None:
    """The embedded consumer's passes (and refresh_index) take the current time by default."""
    always = {day: ["00:00-23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    navigator(session, "utc@pilotrock.example", "UTC", always)
    navigator(session, "tokyo@pilotrock.example", "Asia/Tokyo", always)  # covers 23:59 UTC
    event_id = crisis_chat(session, utcnow() - 2 * MINUTE)
    index_pending(session)
    on_duty = [n.email for n in navigators_on_duty(session, utcnow())]
    queued = alerts_queued(session)
    assert on_duty and [m.recipient for m in queued] == on_duty
    assert row_of(session, "conv-risk").risk_alerted_event_id == event_id
    index_pending(session)
    refresh_index(session)
    session.commit()
    assert len(alerts_queued(session)) == len(on_duty)
