"""The staff inbox: filters, text search, order and pagination, on SQLite and PostgreSQL."""

from datetime import date, timedelta
from functools import partial

import pytest
from sqlalchemy.orm import Session

from bot.conversations.inbox import InboxFilters, list_conversations
from bot.conversations.index import refresh_index
from bot.db.reviews import ConversationReview, ConversationTag
from tests.support.conversations import (
    ADVOCACY_ANSWERS,
    SECOND_OPINION_ANSWERS,
    T0,
    assessment_conversation,
    at,
    booked_conversation,
    emergency_conversation,
    fallback_conversation,
    greeting_conversation,
    human_conversation,
    lead_conversation,
    low_confidence_conversation,
    write_conversation,
)

# Conversation id -> (builder, day after T0, channel); one a day, so newest first is reversed.
CONVERSATIONS = {
    "c-greet": (greeting_conversation, 0, "rest"),
    "c-assess": (partial(assessment_conversation, answers=ADVOCACY_ANSWERS), 1, "socketio"),
    "c-lead": (partial(lead_conversation, answers=SECOND_OPINION_ANSWERS), 2, "telegram"),
    "c-booked": (booked_conversation, 3, "socketio"),
    "c-emergency": (emergency_conversation, 4, "rest"),
    "c-fallback": (lambda **kw: fallback_conversation(text="a 50%_off deal?", **kw), 5, "telegram"),
    "c-unsure": (low_confidence_conversation, 6, "rest"),
    "c-human": (human_conversation, 7, "socketio"),
}
NEWEST_FIRST = list(reversed(CONVERSATIONS))


def day(n: int) -> str:
    """The ISO date n days after T0."""
    return (T0 + timedelta(days=n)).date().isoformat()


@pytest.fixture
def inbox(migrated_url: str, session: Session) -> Session:
    """A database with the eight conversations indexed, c-lead reviewed and two tags."""
    for conversation_id, (build, offset, channel) in CONVERSATIONS.items():
        write_conversation(
            migrated_url, conversation_id, build(start=at(day=offset), channel=channel)
        )
    refresh_index(session)
    session.add(ConversationReview(conversation_id="c-lead", status="reviewed", reviewed_at=T0))
    session.add_all([ConversationTag(conversation_id="c-lead", tag=tag) for tag in ("vip", "a-b")])
    session.commit()
    return session


def found(session: Session, **query: str) -> list[str]:
    """The ids of the conversations the filters given as query values select."""
    page = list_conversations(session, InboxFilters.from_query(query), per_page=100)
    assert page.total == len(page.items)
    return [row.conversation_id for row in page.items]


def test_newest_first_with_review_status_and_tags(inbox: Session) -> None:
    page = list_conversations(inbox, InboxFilters())
    assert [row.conversation_id for row in page.items] == NEWEST_FIRST
    rows = {row.conversation_id: row for row in page.items}
    assert rows["c-lead"].review_status == "reviewed" and rows["c-lead"].tags == ["a-b", "vip"]
    assert rows["c-greet"].review_status == "unreviewed" and rows["c-greet"].tags == []
    assert rows["c-booked"].outcome == "booked" and rows["c-booked"].recommendation == "both"


FILTER_CASES = [
    ({"channel": "telegram"}, {"c-lead", "c-fallback"}),
    ({"channel": "socketio"}, {"c-assess", "c-booked", "c-human"}),
    ({"outcome": "booked"}, {"c-booked"}),
    ({"outcome": "lead"}, {"c-lead"}),
    ({"outcome": "recommendation"}, {"c-assess"}),
    ({"outcome": "none"}, {"c-greet", "c-emergency", "c-fallback", "c-unsure", "c-human"}),
    ({"recommendation": "advocacy"}, {"c-assess"}),
    ({"recommendation": "second_opinion"}, {"c-lead"}),
    ({"recommendation": "both"}, {"c-booked"}),
    ({"emergency": "1"}, {"c-emergency"}),
    ({"fallback": "yes"}, {"c-fallback", "c-unsure"}),
    ({"human_requested": "true"}, {"c-human"}),
    ({"review_status": "reviewed"}, {"c-lead"}),
    ({"text": "CHEST PAIN"}, {"c-emergency"}),
    ({"text": "pr-7k2m9q"}, {"c-booked"}),
    ({"text": "50%_"}, {"c-fallback"}),
    ({"text": "5_%"}, set()),
    ({"text": "%"}, {"c-fallback"}),
    ({"date_from": day(2), "date_to": day(3)}, {"c-lead", "c-booked"}),
    ({"date_from": day(6)}, {"c-unsure", "c-human"}),
    ({"date_to": day(0)}, {"c-greet"}),
    ({"date_from": day(3), "date_to": day(3)}, {"c-booked"}),
    ({"channel": "socketio", "outcome": "booked"}, {"c-booked"}),
    ({"channel": "rest", "emergency": "0", "fallback": "0"}, {"c-greet"}),
    ({"emergency": "0"}, set(CONVERSATIONS) - {"c-emergency"}),
    ({"human_requested": "no"}, set(CONVERSATIONS) - {"c-human"}),
    ({"review_status": "unreviewed"}, set(CONVERSATIONS) - {"c-lead"}),
]


def test_each_filter_selects_exactly_the_matching_conversations(inbox: Session) -> None:
    for query, expected in FILTER_CASES:
        ids = found(inbox, **query)
        assert set(ids) == expected, query
        assert ids == [i for i in NEWEST_FIRST if i in expected], query


def test_pagination(inbox: Session) -> None:
    filters = InboxFilters()
    pages = [list_conversations(inbox, filters, page=n, per_page=3) for n in (1, 2, 3)]
    assert [p.total for p in pages] == [8, 8, 8] and [p.pages for p in pages] == [3, 3, 3]
    assert [len(p.items) for p in pages] == [3, 3, 2]
    assert [r.conversation_id for p in pages for r in p.items] == NEWEST_FIRST
    assert not pages[0].has_previous and pages[0].has_next and not pages[2].has_next
    beyond = list_conversations(inbox, filters, page=4, per_page=3)
    assert beyond.items == [] and beyond.total == 8
    filtered = list_conversations(inbox, InboxFilters(channel="rest"), page=2, per_page=2)
    assert (filtered.total, filtered.pages) == (3, 2)
    assert [r.conversation_id for r in filtered.items] == ["c-greet"]
    with pytest.raises(ValueError, match="page: must be 1 or more"):
        list_conversations(inbox, filters, page=0)
    with pytest.raises(ValueError, match="per_page"):
        list_conversations(inbox, filters, per_page=500)


def test_an_empty_inbox(session: Session) -> None:
    page = list_conversations(session, InboxFilters(text="anything"))
    assert (page.items, page.total, page.page, page.pages) == ([], 0, 1, 1)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"channel": "fax"}, "channel: unknown value 'fax'"),
        ({"outcome": "won"}, "outcome: unknown value"),
        ({"recommendation": "surgery"}, "recommendation: unknown value"),
        ({"review_status": "done"}, "review_status: unknown value"),
        ({"date_from": "03/04/2025"}, "date_from: '03/04/2025' is not a date"),
        ({"date_to": "2025-02-30"}, "date_to: '2025-02-30' is not a date"),
        ({"date_from": "2025-03-05", "date_to": "2025-03-04"}, "date_from .* is after date_to"),
        ({"emergency": "maybe"}, "emergency: 'maybe' is not yes or no"),
        ({"text": "x" * 201}, "text: at most 200"),
        ({"handoff": "open"}, "handoff: unknown value 'open'; choose one of waiting, claimed, any"),
        ({"live": "now"}, "live: 'now' is not yes or no"),
    ],
)
def test_bad_query_values_are_refused_clearly(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InboxFilters.from_query(query)


def test_query_parsing_ignores_blanks_and_round_trips() -> None:
    query = {
        "channel": " telegram ",
        "emergency": "",
        "fallback": "1",
        "date_from": "2025-03-04",
        "text": " Chest ",
        "page": "2",
        "handoff": "waiting",
        "live": "true",
    }
    filters = InboxFilters.from_query(query)
    assert filters == InboxFilters(
        channel="telegram",
        fallback=True,
        date_from=date(2025, 3, 4),
        text="Chest",
        handoff="waiting",
        live=True,
    )
    assert filters.to_query()["handoff"] == "waiting" and filters.to_query()["live"] == "1"
    assert InboxFilters.from_query(filters.to_query()) == filters
    assert InboxFilters.from_query({}) == InboxFilters()
