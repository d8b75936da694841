"""Driving the assessment over the REST channel, shared by the e2e tests and the benchmark."""

import sqlite3
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bot.intake.answer_model import NONE, THRESHOLD, Reading
from bot.intake.emergency import SAFETY_NOTE
from bot.intake.recommendation import ASSESSMENT_SLOTS, SIDES
from tests.support.servers import ROOT, Servers

HELDOUT = ROOT / "tests" / "nlu"
EMERGENCY_WORDS = ("911", "988")


def load(path: Path) -> Any:
    """A YAML file of the held-out sets."""
    return yaml.safe_load(path.read_text())


def new_sender(prefix: str) -> str:
    """A fresh conversation id."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def text_of(replies: list[dict]) -> str:
    """All reply texts as one string."""
    return " ".join(r.get("text", "") for r in replies)


def payloads(replies: list[dict]) -> set[str]:
    """Every button payload in the replies."""
    return {b["payload"] for r in replies for b in r.get("buttons", [])}


def button(slot: str, value: str) -> str:
    """The payload of an answer button."""
    return f'/inform{{"{slot}": "{value}"}}'


def assessment_answers(slots: dict[str, Any]) -> tuple[Any, ...]:
    """The four assessment answers in a tracker's slots: scope, decisions, need and support."""
    return tuple(slots[slot] for slot in ("scope", "decisions", "need", "support"))


def open_question(servers: Servers, sender: str) -> str | None:
    """The question the assessment is waiting on, if it is running."""
    tracker = servers.tracker(sender)
    if (tracker.get("active_loop") or {}).get("name") != "assessment_form":
        return None
    return tracker["slots"].get("requested_slot")


def stored_events(servers: Servers, sender: str) -> int:
    """How many events the SQL tracker store holds for a conversation (0 once erased)."""
    path = servers.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        query = "SELECT COUNT(*) FROM events WHERE sender_id = ?"
        return db.execute(query, (sender,)).fetchone()[0]


def reach(servers: Servers, sender: str, question: str) -> None:
    """Start the assessment and answer the questions before `question` with buttons."""
    servers.send(sender, "/request_assessment")
    for slot in ASSESSMENT_SLOTS:
        if slot == question:
            break
        servers.send(sender, button(slot, SIDES[slot][0]))
    if open_question(servers, sender) != question:
        raise AssertionError(f"the assessment did not reach {question}")


def heldout_confusions(servers: Servers) -> dict[str, Counter[tuple[str, str]]]:
    """Per question, (expected, read) counts over the held-out answers (never trained on)."""
    confusions = {}
    for question, items in load(HELDOUT / "answers_heldout.yml").items():
        confusion: Counter[tuple[str, str]] = Counter()
        for item in items:
            reading = servers.parse(item["text"])["answers"][question]
            got = Reading(reading["value"], reading["confidence"]).taken(THRESHOLD) or NONE
            confusion[(item["value"], got)] += 1
        confusions[question] = confusion
    return confusions


def accuracy(confusion: Counter[tuple[str, str]]) -> float:
    """The share of a confusion's items read as expected."""
    return sum(n for (gold, got), n in confusion.items() if gold == got) / sum(confusion.values())


def false_alarms(servers: Servers) -> tuple[list[str], int, list[str], int]:
    """Ordinary in-form answers that got 911/988, how many of those were only the one-line
    safety note (moderate risk), those whose progress a false alarm lost (answers gone, or the
    questions not back after "we're safe"), and the total."""
    alarms, notes, lost = [], 0, []
    items = load(HELDOUT / "false_alarms.yml")["items"]
    for item in items:
        sender = new_sender("calm")
        reach(servers, sender, item["question"])
        text = text_of(servers.send(sender, item["text"]))
        notes += SAFETY_NOTE in text
        triggered = servers.tracker(sender)["slots"]["emergency_triggered"]
        if any(word in text for word in EMERGENCY_WORDS) or triggered:
            alarms.append(item["text"])
            if not carries_on(servers, sender, item["question"]):
                lost.append(item["text"])
    return alarms, notes, lost, len(items)


def carries_on(servers: Servers, sender: str, question: str) -> bool:
    """After a false alarm the assessment goes on, answers kept ("we're safe" if it paused)."""
    before = [q for q in ASSESSMENT_SLOTS if q != question]
    answered = {q: servers.tracker(sender)["slots"][q] for q in before}
    if servers.tracker(sender)["slots"].get("paused_loop"):
        servers.send(sender, "/carry_on")
    state = servers.tracker(sender)["slots"]
    still = {q: state[q] for q in before}
    going_on = open_question(servers, sender) is not None or state["recommendation"]
    return bool(going_on) and still == answered


def destructive_outcomes(servers: Servers) -> tuple[list[str], int, int]:
    """In-form answers with destructive words that deleted, cancelled or ended anything;
    how many were read as the expected answer; the total."""
    harmed, correct = [], 0
    items = load(HELDOUT / "destructive_answers.yml")["items"]
    for item in items:
        sender = new_sender("keep")
        reach(servers, sender, item["question"])
        text = text_of(servers.send(sender, item["text"]))
        state = servers.tracker(sender)["slots"]
        deleted = stored_events(servers, sender) == 0 or state["deletion_requested"]
        ended = "Take care" in text or "stop the questions here" in text
        going_on = open_question(servers, sender) is not None or state["recommendation"]
        if state.get("paused_loop"):  # a suspected risk paused the questions, answers kept
            going_on = carries_on(servers, sender, item["question"])
        if deleted or ended or not going_on:
            harmed.append(item["text"])
        correct += state[item["question"]] == item["value"]
    return harmed, correct, len(items)
