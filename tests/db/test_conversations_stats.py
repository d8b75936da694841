"""Dashboard figures from the index the consumer keeps, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bot.conversations.stats import TOP_INTENTS, dashboard
from tests.support import conversations as examples
from tests.support.conversations import (
    ADVOCACY_ANSWERS,
    SECOND_OPINION_ANSWERS,
    T0,
    at,
    write_conversation,
)
from tests.support.indexing import index_pending

START, END = T0.date(), (T0 + timedelta(days=3)).date()


@pytest.fixture
def period(migrated_url: str, session: Session) -> Session:
    """Five conversations started in [START, END], one the day before and one after."""
    inside = {
        "c-assess": examples.assessment_conversation(start=at(day=1), answers=ADVOCACY_ANSWERS),
        "c-lead": examples.lead_conversation(
            start=at(day=1, hour=2), answers=SECOND_OPINION_ANSWERS
        ),
        "c-booked": examples.booked_conversation(start=at(day=2)),
        "c-fallback": examples.fallback_conversation(start=at(day=2, hour=1)),
        "c-emergency": examples.emergency_conversation(
            start=at(day=3, hour=8, minute=59)  # 23:59 UTC
        ),
    }
    outside = {
        "c-before": examples.greeting_conversation(start=at(day=-1)),
        "c-after": examples.booked_conversation(start=at(day=4)),
    }
    for conversation_id, events in {**inside, **outside}.items():
        write_conversation(migrated_url, conversation_id, events)
    index_pending(session)
    return session


def test_funnel_and_recommendation_split(period: Session) -> None:
    board = dashboard(period, START, END)
    assert board.funnel == [("Conversations", 5), ("Assessed", 3), ("Leads", 2), ("Booked", 1)]
    assert board.recommendations == {"second_opinion": 1, "both": 1, "advocacy": 1}


def test_fallback_rate_counts_visitor_messages_of_the_period(period: Session) -> None:
    board = dashboard(period, START, END)
    # assessment 7, lead 12, booked 13, fallback 2, emergency 2 visitor messages
    assert (board.visitor_messages, board.fallback_messages) == (36, 1)
    assert board.fallback_rate == pytest.approx(1 / 36)


def test_top_intents_of_the_period(period: Session) -> None:
    board = dashboard(period, START, END)
    assert board.top_intents == [
        ("inform", 21),
        ("greet", 5),
        ("affirm", 4),
        ("request_assessment", 3),
        ("deny", 1),
        ("emergency", 1),
        ("nlu_fallback", 1),
    ]


def test_the_period_is_inclusive_utc_days(period: Session) -> None:
    last_day = dashboard(period, END, END)
    assert last_day.funnel[0] == ("Conversations", 1)
    assert last_day.top_intents == [("emergency", 1), ("greet", 1)]
    day_before = dashboard(period, START - timedelta(days=1), START - timedelta(days=1))
    assert day_before.funnel == [("Conversations", 1), ("Assessed", 0), ("Leads", 0), ("Booked", 0)]


def test_an_empty_period(session: Session) -> None:
    board = dashboard(session, START, END)
    assert [count for _, count in board.funnel] == [0, 0, 0, 0]
    assert board.recommendations == {"second_opinion": 0, "both": 0, "advocacy": 0}
    assert (board.visitor_messages, board.fallback_rate, board.top_intents) == (0, 0.0, [])


def test_top_intents_are_limited_and_ties_sorted_by_name(
    migrated_url: str, session: Session
) -> None:
    script = examples.greeted(at(day=1))
    intents = [f"intent_{letter}" for letter in "lkjihgfedcba"]
    for intent in intents:
        script.user(f"message for {intent}", intent, 0.9).listen()
    script.user("and again", "intent_z", 0.9).listen().user("once more", "intent_z", 0.9)
    write_conversation(migrated_url, "c-many", script.events)
    index_pending(session)
    top = dashboard(session, START, END).top_intents
    assert len(top) == TOP_INTENTS
    assert top[0] == ("intent_z", 2)
    assert top[1:] == [(name, 1) for name in sorted([*intents, "greet"])[: TOP_INTENTS - 1]]


def test_bad_periods_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="is after end"):
        dashboard(session, END, START)
    with pytest.raises(ValueError, match="limited"):
        dashboard(session, START, START + timedelta(days=5000))
