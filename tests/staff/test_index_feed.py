"""Staff pages read the index as the consumer keeps it: a page load never rebuilds it."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.reviews import ConversationIndex
from tests.staff.conftest import Staff
from tests.support.conversations import at, fallback_conversation, write_conversation
from tests.support.indexing import index_differences, index_pending

SignIn = Callable[[str], Staff]
LISTED = re.compile(r'href="/conversations/(conv-[a-z]+)"')


def conversations_figure(html: str) -> int:
    """The dashboard's conversation count."""
    match = re.search(r'<span class="figure">(\d+)</span> conversations', html)
    assert match, "the dashboard shows no conversation count"
    return int(match.group(1))


def test_pages_show_a_new_conversation_once_the_consumer_has_indexed_it(
    signed_in: SignIn, db_url: str, db: Session
) -> None:
    reviewer = signed_in("reviewer")
    assert index_differences(db) == []  # the seeded database: the consumer has caught up
    listed = set(LISTED.findall(reviewer.get("/conversations").text))
    counted = conversations_figure(reviewer.get("/dashboard").text)
    write_conversation(db_url, "conv-later", fallback_conversation(start=at(hour=9)))

    for _ in range(2):  # page loads alone change nothing
        assert set(LISTED.findall(reviewer.get("/conversations").text)) == listed
        assert conversations_figure(reviewer.get("/dashboard").text) == counted
    assert db.scalar(select(func.count()).select_from(ConversationIndex)) == len(listed)
    db.commit()

    change = index_pending(db_url)
    assert (change.written, change.current) == (1, 0)
    assert set(LISTED.findall(reviewer.get("/conversations").text)) == listed | {"conv-later"}
    assert conversations_figure(reviewer.get("/dashboard").text) == counted + 1
    assert index_differences(db) == []
