"""The recommendation rule: which service fits the visitor's four answers."""

from dataclasses import dataclass

from bot.core.vocabulary import ADVOCACY, ASSESSMENT_SLOTS, BOTH, SECOND_OPINION, SIDES

__all__ = [
    "ADVOCACY",
    "ASSESSMENT_SLOTS",
    "BOTH",
    "SECOND_OPINION",
    "SIDES",
    "Recommendation",
    "recommend",
]


@dataclass(frozen=True)
class Recommendation:
    """The outcome of the assessment and the answers behind it."""

    kind: str
    complex_answers: tuple[str, ...]
    bounded_answers: tuple[str, ...]


def recommend(answers: dict[str, str]) -> Recommendation:
    """Apply the contract rule: 0 complex answers -> second opinion, 1-2 -> both, 3+ -> advocacy."""
    complex_slots, bounded_slots = [], []
    for slot in ASSESSMENT_SLOTS:
        bounded_value, complex_value = SIDES[slot]
        value = answers.get(slot)
        if value == complex_value:
            complex_slots.append(slot)
        elif value == bounded_value:
            bounded_slots.append(slot)
        else:
            raise ValueError(
                f"{slot} must be {bounded_value!r} or {complex_value!r}, not {value!r}"
            )
    count = len(complex_slots)
    kind = SECOND_OPINION if count == 0 else BOTH if count <= 2 else ADVOCACY
    return Recommendation(kind, tuple(complex_slots), tuple(bounded_slots))
