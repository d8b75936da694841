"""How warm a lead is, and why: a score staff can sort by, with its reasons."""

from dataclasses import dataclass

from bot.intake.intent_labels import intent_label

RECOMMENDATION_WORDS = {
    "second_opinion": "a second opinion",
    "both": "a second opinion and ongoing navigation",
    "advocacy": "ongoing navigation",
}


@dataclass(frozen=True)
class Signals:
    """What the conversation showed about the visitor's intent."""

    asked_to_book: bool = False
    recommendation: str | None = None
    situation: str | None = None
    has_summary: bool = False
    human_requested: bool = False
    emergency_triggered: bool = False


def warmth(signals: Signals) -> tuple[int, list[str]]:
    """A 0-100 warmth score and the reasons behind it."""
    score, reasons = 0, []
    if signals.asked_to_book:
        score += 40
        reasons.append("asked for the intro call (+40)")
    if signals.recommendation:
        score += 20
        reasons.append(
            f"completed the assessment: {RECOMMENDATION_WORDS[signals.recommendation]} (+20)"
        )
        if signals.recommendation != "second_opinion":
            score += 10
            reasons.append("needs ongoing support (+10)")
    if signals.situation:
        score += 15
        label = intent_label(f"situation_{signals.situation}").lower()
        reasons.append(f"described their situation: {label} (+15)")
    if signals.has_summary:
        score += 10
        reasons.append("shared a one-line summary (+10)")
    if signals.human_requested:
        score += 5
        reasons.append("asked to talk to a person (+5)")
    if signals.emergency_triggered:
        reasons.append("was shown emergency guidance in this conversation (no score change)")
    return min(score, 100), reasons
