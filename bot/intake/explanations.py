"""Plain-language explanation of a recommendation in the visitor's own terms."""

from bot.intake.recommendation import ADVOCACY, BOTH, SECOND_OPINION, Recommendation

# How each answer is said back to the visitor.
ANSWER_PHRASES: dict[str, str] = {
    "bounded": "your question is specific",
    "complex": "your situation is complex and still changing",
    "one_time": "there's one main decision in front of you",
    "many": "you have a journey of decisions ahead",
    "answer": "you mainly want an expert answer",
    "navigate": "you want help finding your way through the system",
    "has_support": "you have good support around you",
    "alone": "you're managing much of this on your own",
}

HEADLINES: dict[str, str] = {
    SECOND_OPINION: "A focused second opinion looks like the right fit.",
    BOTH: "It sounds like both would help: navigation that starts with an independent review.",
    ADVOCACY: "Ongoing advocacy (medical navigation) looks like the right fit.",
}

CLOSINGS: dict[str, str] = {
    SECOND_OPINION: (
        "One expert review can confirm or question the plan, and you carry on with your "
        "own care team."
    ),
    BOTH: ("A review gives you answers now, and a navigator stays with you for what comes after."),
    ADVOCACY: (
        "A physician who knows your case and stays with you fits better than a single consultation."
    ),
}


def join_phrases(phrases: list[str]) -> str:
    """Join phrases as natural English: 'a', 'a and b', 'a, b and c'."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def explain(rec: Recommendation, answers: dict[str, str]) -> list[str]:
    """Chat messages saying what was recommended and which answers pointed where."""
    bounded = [ANSWER_PHRASES[answers[slot]] for slot in rec.bounded_answers]
    complex_ = [ANSWER_PHRASES[answers[slot]] for slot in rec.complex_answers]
    lines = [HEADLINES[rec.kind]]
    reasons = []
    if bounded:
        reasons.append(f"You said {join_phrases(bounded)}: that points to a second opinion.")
    if complex_:
        lead = "And" if bounded else "You said"
        reasons.append(f"{lead} {join_phrases(complex_)}: that's where ongoing navigation helps.")
    lines.append(" ".join(reasons))
    lines.append(CLOSINGS[rec.kind])
    return lines
