"""End to end: the real Rasa and action servers over the REST channel and the HTTP API."""

import sqlite3
import uuid

import pytest
import requests

from tests.support.assessment import assessment_answers
from tests.support.servers import Servers

pytestmark = pytest.mark.e2e

BUTTONS = {
    "scope": ('/inform{"scope": "bounded"}', '/inform{"scope": "complex"}'),
    "decisions": ('/inform{"decisions": "one_time"}', '/inform{"decisions": "many"}'),
    "need": ('/inform{"need": "answer"}', '/inform{"need": "navigate"}'),
    "support": ('/inform{"support": "has_support"}', '/inform{"support": "alone"}'),
}


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def text_of(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def payloads(replies: list[dict]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def slots(servers: Servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


def test_greeting_has_notice_and_entry_buttons(servers: Servers) -> None:
    replies = servers.send(new_sender(), "hello")
    text = text_of(replies)
    assert "911" in text and "988" in text and "medical advice" in text
    assert {"/ask_difference", "/request_assessment", "/book_call"} <= set(payloads(replies))


def test_assessment_with_buttons_and_free_text(servers: Servers) -> None:
    sender = new_sender()
    replies = servers.send(sender, "which one is right for me?")
    assert set(BUTTONS["scope"]) <= set(payloads(replies))
    servers.send(sender, BUTTONS["scope"][0])
    servers.send(sender, BUTTONS["decisions"][1])
    replies = servers.send(sender, BUTTONS["need"][0])
    assert set(BUTTONS["support"]) <= set(payloads(replies))
    replies = servers.send(sender, "honestly it's basically just me")
    state = slots(servers, sender)
    assert assessment_answers(state) == ("bounded", "many", "answer", "alone")
    assert state["recommendation"] == "both"
    text = text_of(replies)
    assert "journey of decisions" in text and "on your own" in text
    assert "/book_call" in payloads(replies)
    assert servers.tracker(sender)["active_loop"] in ({}, None) or not servers.tracker(sender)[
        "active_loop"
    ].get("name")


def test_unclear_answer_is_reasked_more_clearly(servers: Servers) -> None:
    sender = new_sender()
    servers.send(sender, "help me decide")
    replies = servers.send(sender, "hmm maybe")
    assert slots(servers, sender)["scope"] is None
    assert "couldn't tell" in text_of(replies)
    assert set(BUTTONS["scope"]) <= set(payloads(replies))
    servers.send(sender, "it's really just one specific question")
    assert slots(servers, sender)["scope"] == "bounded"


def test_emergency_mid_assessment_stops_the_form(servers: Servers) -> None:
    sender = new_sender()
    servers.send(sender, "help me decide")
    servers.send(sender, BUTTONS["scope"][1])
    replies = servers.send(sender, "my dad just collapsed and he isn't breathing")
    assert "911" in text_of(replies)
    tracker = servers.tracker(sender)
    assert not (tracker.get("active_loop") or {}).get("name")
    assert tracker["slots"]["emergency_triggered"] is True
    assert tracker["slots"]["requested_slot"] is None


def test_crisis_gets_988(servers: Servers) -> None:
    replies = servers.send(new_sender(), "honestly i just want to end my life")
    assert "988" in text_of(replies)


def test_question_mid_assessment_is_answered_then_resumed(servers: Servers) -> None:
    sender = new_sender()
    servers.send(sender, "help me decide")
    replies = servers.send(sender, "wait, how much does all this cost?")
    text = text_of(replies)
    assert "free" in text
    assert set(BUTTONS["scope"]) <= set(payloads(replies))
    assert slots(servers, sender)["requested_slot"] == "scope"


def test_medical_advice_is_declined(servers: Servers) -> None:
    replies = servers.send(new_sender(), "what dose of ibuprofen should I take for my back?")
    text = text_of(replies)
    assert "can't give medical advice" in text
    assert "/book_call" in payloads(replies)


def test_request_human_is_recorded(servers: Servers) -> None:
    sender = new_sender()
    replies = servers.send(sender, "can I talk to a real person please")
    assert "person" in text_of(replies)
    assert slots(servers, sender)["human_requested"] is True


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("", None),
        ("x" * 5000, None),
        ("🙏😢🙏", None),
        ("necesito una segunda opinión para mi madre, por favor", "English"),
        ("我需要第二意见", "English"),
        ("<script>alert('x')</script>", None),
        ("<img src=x onerror=alert(1)>", None),
    ],
)
def test_bad_input_gets_a_reply_and_the_conversation_goes_on(
    servers: Servers, message: str, expected: str | None
) -> None:
    sender = new_sender()
    replies = servers.send(sender, message)
    assert replies, "every message gets a reply"
    if expected:
        assert expected in text_of(replies)
    assert "<script>" not in text_of(replies) and "onerror" not in text_of(replies)
    follow_up = servers.send(sender, "what is a second opinion?")
    assert "second opinion" in text_of(follow_up).lower()


def test_http_api_needs_the_token(servers: Servers) -> None:
    url = f"{servers.rasa_url}/conversations/nobody/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, params={"token": "wrong"}, timeout=10).status_code == 401


def test_transcripts_are_kept_in_the_sql_tracker_store(servers: Servers) -> None:
    sender = new_sender()
    servers.send(sender, "hi")
    path = servers.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        count = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()
        mode = db.execute("PRAGMA journal_mode").fetchone()
    assert count[0] > 3
    assert mode[0] == "wal"
