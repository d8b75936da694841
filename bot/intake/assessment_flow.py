"""What the assessment says between its questions: intros, re-ask stages and confirmations."""

from typing import Any

from bot.intake.explanations import ANSWER_PHRASES, join_phrases
from bot.intake.recommendation import ASSESSMENT_SLOTS, SIDES

REASK = "assessment_reask"  # slot: which re-ask of which question is due (see next_reask)
PREFILL = "prefill"  # slot: answers a described situation implies, waiting for the visitor's ok
PREFILL_OK = "prefill_ok"  # slot the form requests while that confirmation is open
# Re-ask stages of a question: first and second clearer re-asks, then buttons and a way forward.
SECOND, STUCK = "_2", "_stuck"


def next_reask(slot: str, current: str | None) -> str:
    """The re-ask marker after another unreadable answer to `slot` (never more than two re-asks)."""
    if current == slot:
        return slot + SECOND
    if current in (slot + SECOND, slot + STUCK):
        return slot + STUCK
    return slot


def intro_text(known_values: list[str]) -> str:
    """The assessment's opening line, mentioning answers already understood."""
    remaining = len(ASSESSMENT_SLOTS) - len(known_values)
    count = "one quick question" if remaining == 1 else f"{remaining} quick questions"
    text = f"Let's work it out together: {count}, tap a button or answer in your own words."
    if known_values:
        understood = join_phrases([ANSWER_PHRASES[v] for v in known_values])
        text += f" I'll go with what you confirmed: {understood}."
    return text


def proposal_of(value: Any) -> dict[str, str]:
    """A stored proposal as {question: value}, keeping only valid pairs."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k in SIDES and v in SIDES[k]}


def understood(proposal: dict[str, str]) -> str:
    """The proposed answers said back in plain words."""
    ordered = [proposal[s] for s in ASSESSMENT_SLOTS if s in proposal]
    return join_phrases([ANSWER_PHRASES[v] for v in ordered])


def proposal_text(proposal: dict[str, str]) -> str:
    """Ask the visitor to confirm what their description implies."""
    return (
        f"From what you've told me, I understood that {understood(proposal)}. "
        "Is that right? If so, I'll only ask what's left."
    )


def confirm_prefill_buttons() -> list[dict[str, str]]:
    """Confirm the understood answers, or answer every question yourself."""
    return [
        {"title": "Yes, that's right", "payload": "/affirm"},
        {"title": "I'll answer myself", "payload": "/deny"},
    ]
