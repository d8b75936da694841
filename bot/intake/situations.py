"""The article's situation archetypes: what each implies and how the bot answers it."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Situation:
    """One archetype: its acknowledgement, tailored explanation and implied answers."""

    name: str
    acknowledgement: str
    explanation: str
    prefill: dict[str, str] = field(default_factory=dict)


SITUATIONS: dict[str, Situation] = {
    "verify_treatment": Situation(
        "verify_treatment",
        "It makes sense to want to be sure before going ahead with a treatment.",
        "When there's a clear recommendation and you want independent confirmation, a second "
        "opinion is often exactly right: another expert looks at the same information and "
        "either confirms it, so you go ahead with confidence, or gives you something new to "
        "weigh.",
        {"scope": "bounded", "decisions": "one_time", "need": "answer"},
    ),
    "verify_diagnosis": Situation(
        "verify_diagnosis",
        "Doubting a diagnosis is unsettling, and wanting it checked is completely reasonable.",
        "When the diagnosis itself is the big question, a second opinion fits well: a "
        "physician reviews the diagnostic material and tells you whether they reach the same "
        "conclusion, before you commit to the treatment that follows.",
        {"scope": "bounded", "need": "answer"},
    ),
    "new_diagnosis": Situation(
        "new_diagnosis",
        "I'm so sorry. A new serious diagnosis is a lot to take in.",
        "What usually follows is a series of decisions: checking the diagnosis, weighing "
        "treatments, finding the right specialist, maybe clinical trials. A second opinion "
        "covers one of those points; a navigator stays with you through all of them.",
        {"scope": "complex", "decisions": "many"},
    ),
    "unexplained_symptoms": Situation(
        "unexplained_symptoms",
        "That sounds exhausting: years of symptoms, many doctors and still no clear answer.",
        "One more opinion can end up inconclusive too. What tends to help is a physician who "
        "looks across every visit, result and provider, pulls it together, and builds a plan "
        "for finding the answer. That's what ongoing navigation does.",
        {"scope": "complex", "need": "navigate"},
    ),
    "caregiver": Situation(
        "caregiver",
        "Looking after someone's complex care, especially from a distance, is a lot to carry.",
        "When there are several conditions, specialists and medications, and the doctors "
        "aren't talking to each other, a navigator can provide the steady oversight and "
        "coordination, and keep you in the loop.",
        {"scope": "complex", "need": "navigate"},
    ),
}

INTENT_PREFIX = "situation_"


def situation_for_intent(intent: str | None) -> Situation | None:
    """The archetype a situation_* intent names, if any."""
    if not intent or not intent.startswith(INTENT_PREFIX):
        return None
    return SITUATIONS.get(intent.removeprefix(INTENT_PREFIX))
