"""Whole assessments from tests/e2e/conversations_in_words.yml, driven through any `send`.

The driver reads the question being asked from the answer buttons in the bot's replies, so it
makes no tracker reads of its own. About a third of the assessments are answered with the
buttons instead of words, and every fifth one books the intro call (as the soak's visitors do).
Each message carries a fresh `message_id` in its metadata, as the widget and the soak send it.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.vocabulary import ASSESSMENT_SLOTS
from tests.support.assessment import button, payloads, text_of
from tests.support.servers import ROOT

CONVERSATIONS = ROOT / "tests" / "e2e" / "conversations_in_words.yml"
INFORM = re.compile(r"^/inform(\{.*\})$")
REFERENCE = re.compile(r"\bPR-[A-Z0-9]{4,}\b")  # a booking's reference, told to the visitor
MAX_TURNS = 14
TIMEZONE = {"timezone": "America/Chicago"}
# The short assessment the latency figures and the anchor send: greeting, questions, a side
# question, thanks.
SCRIPT = [
    "hello",
    "help me decide",
    '/inform{"scope": "complex"}',
    '/inform{"decisions": "many"}',
    "I need someone to help me find my way through the system",
    '/inform{"support": "alone"}',
    "how much does it cost?",
    "thanks!",
]
# (sender, text, metadata) -> the bot's replies, as the REST webhook returns them
Send = Callable[[str, str, dict[str, Any]], list[dict[str, Any]]]


@dataclass
class Outcome:
    """How far one assessment got: a recommendation with its booking button, a booking."""

    recommended: bool = False
    booked: bool = False


@dataclass(frozen=True)
class Plan:
    """One assessment to drive: its script, and whether to answer by button and to book."""

    script: dict[str, Any]
    buttons: bool
    books: bool


def plans() -> list[Plan]:
    """Every scripted assessment, a third answered by button, a fifth booking the call."""
    scripts = yaml.safe_load(CONVERSATIONS.read_text())["conversations"]
    return [Plan(s, buttons=i % 3 == 2, books=i % 5 == 4) for i, s in enumerate(scripts)]


def is_payload(text: str) -> bool:
    """Whether a message is a button payload (it skips the NLU pipeline) rather than free text."""
    return text.startswith("/")


def asked(replies: list[dict[str, Any]]) -> str | None:
    """The assessment question whose answer buttons the replies offer, if any."""
    for payload in payloads(replies):
        match = INFORM.match(payload)
        if match:
            slots = [s for s in json.loads(match.group(1)) if s in ASSESSMENT_SLOTS]
            if slots:
                return slots[0]
    return None


class Visit:
    """One visitor's conversation through `send`."""

    def __init__(self, send: Send, prefix: str) -> None:
        """Talk through `send` as a new sender named after `prefix`."""
        self.send, self.sender = send, f"{prefix}-{uuid.uuid4().hex[:10]}"

    def say(self, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one message with a fresh message id; the replies."""
        return self.send(self.sender, text, {**(metadata or {}), "message_id": uuid.uuid4().hex})

    def run(self, plan: Plan) -> Outcome:
        """Open, answer the questions in the order asked (a side question once), maybe book."""
        replies: list[dict[str, Any]] = []
        for text in plan.script["opening"]:
            replies = self.say(text)
        side, answers = plan.script.get("side"), plan.script["answers"]
        for _ in range(MAX_TURNS):
            question = asked(replies)
            if question is None or question not in answers:
                break
            if side and side["question"] == question:
                replies, side = self.say(side["text"]), None
                continue
            answer = answers[question]
            text = button(question, answer["value"]) if plan.buttons else answer["text"]
            replies = self.say(text)
        outcome = Outcome(recommended="/book_call" in payloads(replies))
        if plan.books and outcome.recommended:
            outcome.booked = self.book()
        return outcome

    def book(self) -> bool:
        """Book the intro call through the lead form, taking the first offered time; whether
        the visitor was told a booking reference."""
        self.say("/book_call", TIMEZONE)
        for text in (
            "I'm Sam Rivera",
            f"it's sam.{self.sender[-8:]}@example.com",
            "a second opinion for my mum's surgery",
        ):
            self.say(text)
        replies = self.say("/affirm")
        for _ in range(4):  # a time taken meanwhile is offered again
            choices = sorted(p for p in payloads(replies) if "slot_choice" in p)
            if not choices:
                break
            replies = self.say(choices[0])
            if REFERENCE.search(text_of(replies)):
                return True
        return False


def drive(send: Send, prefix: str, chosen: list[Plan] | None = None) -> list[Outcome]:
    """Every planned assessment (or the chosen ones), one after the other; how each ended."""
    return [Visit(send, prefix).run(plan) for plan in (plans() if chosen is None else chosen)]


def outcome_line(outcomes: list[Outcome]) -> str:
    """How many assessments reached a recommendation and how many booked the call."""
    recommended = sum(o.recommended for o in outcomes)
    booked = sum(o.booked for o in outcomes)
    return f"{recommended}/{len(outcomes)} assessments reached a recommendation, {booked} booked"
