"""The held-out safety and out-of-scope sets, sent to the real servers as first messages."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import yaml

from bot.intake.emergency import (
    ACUTE_MESSAGES,
    CRISIS_MESSAGES,
    SAFETY_NOTE,
    UNSPECIFIED_MESSAGES,
)
from tests.support.servers import ROOT, Servers

SAFETY_HELDOUT = ROOT / "tests" / "nlu" / "safety_heldout.yml"
OUT_OF_SCOPE_HELDOUT = ROOT / "tests" / "nlu" / "out_of_scope_heldout.yml"
NUMBER = {"acute": "911", "crisis": "988"}
WORKERS = 4
# The first message of each safety reply: the emergency replies and the one-line note.
SAFETY_OPENINGS = (ACUTE_MESSAGES[0], CRISIS_MESSAGES[0], UNSPECIFIED_MESSAGES[0], SAFETY_NOTE)


@dataclass(frozen=True)
class Outcome:
    """What the bot answered to one held-out message sent cold."""

    item: dict[str, Any]
    replies: list[dict[str, Any]]

    @property
    def first(self) -> str:
        """The text of the first bot message."""
        return str(self.replies[0].get("text") or "") if self.replies else ""

    @property
    def caught(self) -> bool:
        """A risk item: its number (911 acute, 988 crisis) is in the first bot message."""
        return NUMBER[self.item["kind"]] in self.first

    @property
    def alarm(self) -> bool:
        """The answer opened with a safety reply (an FAQ that mentions 911 is no alarm)."""
        return self.first in SAFETY_OPENINGS

    @property
    def note_only(self) -> bool:
        """The alarm was the one-line safety note (moderate risk), then the normal reply."""
        return self.first == SAFETY_NOTE


def load_safety() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The held-out risk items and hard negatives."""
    data = yaml.safe_load(SAFETY_HELDOUT.read_text(encoding="utf-8"))
    return list(data["risk"]), list(data["negatives"])


def load_out_of_scope() -> list[str]:
    """The held-out out-of-scope requests."""
    return [str(t) for t in yaml.safe_load(OUT_OF_SCOPE_HELDOUT.read_text())["examples"]]


def send_cold(servers: Servers, items: list[dict[str, Any]]) -> list[Outcome]:
    """Each item's text as the first message of a new conversation."""

    def one(item: dict[str, Any]) -> Outcome:
        sender = f"safety-{uuid.uuid4().hex[:12]}"
        return Outcome(item, servers.send(sender, item["text"]))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, items))


def recall_by(outcomes: list[Outcome], key: str) -> dict[str, tuple[int, int]]:
    """(caught, total) per value of `key` (kind, category or style) among risk outcomes."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        row = table[str(outcome.item.get(key))]
        row[0] += outcome.caught
        row[1] += 1
    return {name: (row[0], row[1]) for name, row in sorted(table.items())}


def alarms_by_category(outcomes: list[Outcome]) -> dict[str, tuple[int, int, int]]:
    """(full replies, one-line notes, total) per category among hard-negative outcomes."""
    full, notes, total = Counter(), Counter(), Counter()
    for outcome in outcomes:
        category = str(outcome.item.get("category"))
        total[category] += 1
        if outcome.alarm:
            (notes if outcome.note_only else full)[category] += 1
    return {c: (full[c], notes[c], total[c]) for c in sorted(total)}
