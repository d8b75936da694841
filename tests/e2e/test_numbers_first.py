"""End to end: a risk message gets 911 / 988 in the first reply in every state, a false alarm
costs one message (answers kept), and the team on duty is alerted."""

import uuid

import pytest
from sqlalchemy import select

from bot.conversations.index import refresh_index
from bot.conversations.risk_alerts import RISK_KIND
from bot.db.models import OutboxMessage
from bot.db.reviews import ConversationIndex
from bot.db.session import session_scope
from tests.e2e.test_booking import fill_lead_form, slot_buttons, text_of
from tests.support.assessment import open_question, reach
from tests.support.servers import Servers
from tests.support.takeover import TeamMember, team_on_duty

pytestmark = pytest.mark.e2e

# Written for these tests: in neither the training data nor the held-out sets.
ACUTE = "my wife just went limp at the table and her mouth is drooping, she won't answer me"
CRISIS = "i've been collecting my sleeping pills for weeks and i think tonight i'll take them all"


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def slots(servers: Servers, sender: str) -> dict:
    return servers.tracker(sender)["slots"]


@pytest.mark.parametrize(("text", "number"), [(ACUTE, "911"), (CRISIS, "988")])
def test_a_first_message_gets_the_number_first(servers: Servers, text: str, number: str) -> None:
    replies = servers.send(new_sender("cold"), text)
    assert number in replies[0]["text"]


def test_mid_assessment_the_form_pauses_and_carry_on_keeps_the_answers(servers: Servers) -> None:
    sender = new_sender("mid")
    reach(servers, sender, "need")
    replies = servers.send(sender, CRISIS)
    assert "988" in replies[0]["text"]
    assert open_question(servers, sender) is None
    servers.send(sender, "/carry_on")
    assert open_question(servers, sender) == "need"
    state = slots(servers, sender)
    assert (state["scope"], state["decisions"]) == ("bounded", "one_time")


def test_in_the_lead_form(servers: Servers) -> None:
    sender = new_sender("lead")
    replies = servers.send(sender, "/book_call", metadata={"timezone": "America/Chicago"})
    assert "name" in text_of(replies)
    replies = servers.send(sender, ACUTE)
    assert "911" in replies[0]["text"]
    assert servers.tracker(sender)["active_loop"].get("name") in (None, "")
    replies = servers.send(sender, "/carry_on")
    assert servers.tracker(sender)["active_loop"]["name"] == "lead_form"
    assert "name" in text_of(replies)


def test_while_choosing_a_time(servers: Servers) -> None:
    sender = new_sender("slot")
    offer = fill_lead_form(servers, sender, "/book_call")
    assert slot_buttons(offer)
    replies = servers.send(sender, CRISIS)
    assert "988" in replies[0]["text"]
    replies = servers.send(sender, "we're safe, carry on")
    assert slot_buttons(replies), text_of(replies)


def test_during_a_takeover_the_bot_still_gives_the_numbers(servers: Servers) -> None:
    sender = new_sender("live")
    servers.send(sender, "can I talk to someone about my dad's care")
    navigator = TeamMember.new(servers, "Sam Ortiz")
    navigator.join(sender)
    assert servers.tracker(sender)["paused"]
    replies = servers.send(sender, CRISIS)
    assert replies and "988" in replies[0]["text"]
    replies = servers.send(sender, "what time is it in Denver")  # no risk: the bot stays quiet
    assert replies == []


def test_a_moderate_reading_gets_one_line_then_the_normal_reply(servers: Servers) -> None:
    from bot.intake.emergency import SAFETY_NOTE

    for text in (
        "honestly some days i wonder if everyone would be fine without me. what does it cost?",
        "my chest feels a bit weird and tight since this morning, do you do second opinions?",
    ):
        sender = new_sender("note")
        parsed = servers.parse(text)
        replies = servers.send(sender, text)
        if parsed["risk"]["level"] == "moderate":
            assert replies[0]["text"] == SAFETY_NOTE and len(replies) > 1
        else:
            assert parsed["risk"]["level"] == "high" and "911" in replies[0]["text"]


def test_the_risk_is_in_the_parse_data(servers: Servers) -> None:
    parsed = servers.parse(CRISIS)
    assert parsed["risk"]["level"] == "high" and parsed["risk"]["kind"] == "crisis"
    calm = servers.parse("my dad had a heart attack two years ago and we want a second opinion")
    assert calm["risk"]["level"] == "none"


def test_the_team_on_duty_is_alerted_without_health_details(servers: Servers) -> None:
    sender = new_sender("alert")
    url = servers.database_url
    with team_on_duty(url) as emails:
        replies = servers.send(sender, CRISIS)
        assert "988" in replies[0]["text"]
        with session_scope(url) as db:
            refresh_index(db)
        with session_scope(url) as db:
            alerts = db.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == RISK_KIND, OutboxMessage.recipient.in_(emails)
                )
            ).all()
            assert {a.recipient for a in alerts} == set(emails)
            for alert in alerts:
                assert "pills" not in alert.body_text and sender not in alert.body_text
            flagged = db.get(ConversationIndex, sender)
            assert flagged is not None and flagged.emergency
