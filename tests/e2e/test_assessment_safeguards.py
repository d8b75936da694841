"""Nothing irreversible from one message, numbers first and carrying on, confirmed pre-fills,
corrections and bounded re-asks: against the real servers, over the REST channel."""

import pytest

from tests.support.assessment import (
    button,
    new_sender,
    open_question,
    payloads,
    reach,
    stored_events,
    text_of,
)
from tests.support.servers import Servers

pytestmark = pytest.mark.e2e


def slots(servers: Servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


def test_delete_during_the_assessment_asks_and_no_keeps_everything(servers: Servers) -> None:
    sender = new_sender("del")
    reach(servers, sender, "need")
    replies = servers.send(sender, "please delete my data")
    assert "/affirm" in payloads(replies) and "can't be undone" in text_of(replies)
    replies = servers.send(sender, "no")
    assert "haven't deleted" in text_of(replies)
    assert open_question(servers, sender) == "need"
    assert slots(servers, sender)["scope"] == "bounded" and stored_events(servers, sender) > 0


def test_delete_confirmed_by_typing_yes_erases_the_conversation(servers: Servers) -> None:
    sender = new_sender("del")
    reach(servers, sender, "decisions")
    servers.send(sender, "delete everything i told you")
    replies = servers.send(sender, "yes")
    assert "deleted this conversation" in text_of(replies)
    assert stored_events(servers, sender) == 0


def test_stop_asks_first_and_no_goes_on(servers: Servers) -> None:
    sender = new_sender("stop")
    reach(servers, sender, "decisions")
    replies = servers.send(sender, "stop")
    assert {"/affirm", "/deny"} <= payloads(replies)
    replies = servers.send(sender, "no, keep going")
    assert open_question(servers, sender) == "decisions"
    assert {button("decisions", "one_time"), button("decisions", "many")} <= payloads(replies)
    servers.send(sender, "stop the questions")
    replies = servers.send(sender, "yes")
    assert "stop the questions here" in text_of(replies)
    assert open_question(servers, sender) is None
    assert slots(servers, sender)["scope"] == "bounded"  # answers kept for later


def test_goodbye_mid_question_asks_before_ending(servers: Servers) -> None:
    sender = new_sender("bye")
    reach(servers, sender, "support")
    replies = servers.send(sender, "bye")
    assert "Take care" not in text_of(replies)
    assert open_question(servers, sender) == "support"
    servers.send(sender, "/deny")
    assert open_question(servers, sender) == "support"
    servers.send(sender, "goodbye")
    replies = servers.send(sender, "/affirm")
    assert "Take care" in text_of(replies)
    assert open_question(servers, sender) is None


def test_classifier_only_alarm_gives_the_numbers_and_carry_on_keeps_the_answers(
    servers: Servers,
) -> None:
    sender = new_sender("check")
    reach(servers, sender, "need")
    replies = servers.send(sender, "/emergency")  # the intent alone: no red flag in the text
    first = replies[0]["text"]
    assert "911" in first and "?" not in first  # the numbers first, never a question
    assert "988" in text_of(replies)
    assert open_question(servers, sender) is None  # the form is paused
    assert "/carry_on" in payloads(replies)
    replies = servers.send(sender, "/carry_on")
    assert open_question(servers, sender) == "need"
    assert {button("need", "answer"), button("need", "navigate")} <= payloads(replies)
    state = slots(servers, sender)
    assert (state["scope"], state["decisions"]) == ("bounded", "one_time")


def test_typed_we_are_safe_resumes_where_the_visitor_was(servers: Servers) -> None:
    sender = new_sender("safe")
    reach(servers, sender, "support")
    replies = servers.send(sender, "my husband collapsed and isn't breathing")
    assert "911" in replies[0]["text"]
    assert open_question(servers, sender) is None
    servers.send(sender, "sorry false alarm, that was last year. we're safe, carry on")
    assert open_question(servers, sender) == "support"
    assert slots(servers, sender)["need"] is not None


def test_red_flag_mid_answer_still_stops_at_once(servers: Servers) -> None:
    sender = new_sender("flag")
    reach(servers, sender, "support")
    replies = servers.send(sender, "it's just me and honestly i want to kill myself")
    assert "988" in text_of(replies)
    assert open_question(servers, sender) is None


def test_described_situation_is_shown_and_confirmed_in_one_step(servers: Servers) -> None:
    sender = new_sender("pre")
    replies = servers.send(
        sender, "my mother was diagnosed with stage 3 ovarian cancer last week, we're lost"
    )
    state = slots(servers, sender)
    assert state["situation"] == "new_diagnosis"
    assert state["scope"] is None and state["decisions"] is None  # nothing set silently
    assert "Is that right?" in text_of(replies) and "/affirm" in payloads(replies)
    replies = servers.send(sender, "yes that's right")
    state = slots(servers, sender)
    assert (state["scope"], state["decisions"]) == ("complex", "many")
    assert open_question(servers, sender) == "need"
    servers.send(sender, button("need", "answer"))
    servers.send(sender, button("support", "has_support"))
    assert slots(servers, sender)["recommendation"] == "both"


def test_visitor_can_answer_every_question_instead(servers: Servers) -> None:
    sender = new_sender("pre")
    servers.send(sender, "I've had unexplained symptoms for 5 years and seen 10 doctors")
    servers.send(sender, "/deny")
    assert open_question(servers, sender) == "scope"
    assert slots(servers, sender)["scope"] is None


def test_correction_after_the_recommendation_changes_it(servers: Servers) -> None:
    sender = new_sender("fix")
    servers.send(sender, "/request_assessment")
    for slot, value in (
        ("scope", "bounded"),
        ("decisions", "one_time"),
        ("need", "answer"),
        ("support", "alone"),
    ):
        servers.send(sender, button(slot, value))
    assert slots(servers, sender)["recommendation"] == "both"
    replies = servers.send(sender, "Actually, my sister does help")
    state = slots(servers, sender)
    assert state["support"] == "has_support"
    assert state["recommendation"] == "second_opinion"
    assert "changes my suggestion" in text_of(replies)


def test_unreadable_answers_are_reasked_twice_then_a_way_forward(servers: Servers) -> None:
    sender = new_sender("re")
    servers.send(sender, "/request_assessment")
    texts = [text_of(servers.send(sender, "hmm")) for _ in range(3)]
    assert len(set(texts)) == 3  # two different clearer re-asks, then the way forward
    replies = servers.send(sender, "hmm")
    assert {"/request_human", "/book_call"} <= payloads(replies)
    assert button("scope", "bounded") in payloads(replies)
    assert slots(servers, sender)["assessment_reask"] == "scope_stuck"
