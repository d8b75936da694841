"""The recommendation rule of DESIGN.md §4."""

import itertools

import pytest

from bot.intake.explanations import explain
from bot.intake.recommendation import recommend

SIMPLE = {"scope": "bounded", "decisions": "one_time", "need": "answer", "support": "has_support"}
COMPLEX = {"scope": "complex", "decisions": "many", "need": "navigate", "support": "alone"}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (SIMPLE, "second_opinion"),
        ({**SIMPLE, "support": "alone"}, "both"),
        ({**SIMPLE, "scope": "complex", "decisions": "many"}, "both"),
        ({**COMPLEX, "need": "answer"}, "advocacy"),
        (COMPLEX, "advocacy"),
        ({**SIMPLE, "need": "navigate", "support": "alone"}, "both"),
    ],
)
def test_examples(answers: dict[str, str], expected: str) -> None:
    assert recommend(answers).kind == expected


@pytest.mark.parametrize("picks", list(itertools.product([False, True], repeat=4)))
def test_every_combination_follows_the_count(picks: tuple[bool, ...]) -> None:
    answers = {
        slot: (COMPLEX if pick else SIMPLE)[slot] for slot, pick in zip(SIMPLE, picks, strict=True)
    }
    complex_count = sum(picks)
    expected = {0: "second_opinion", 1: "both", 2: "both"}.get(complex_count, "advocacy")
    rec = recommend(answers)
    assert rec.kind == expected
    assert len(rec.complex_answers) == complex_count
    assert len(rec.bounded_answers) == 4 - complex_count


@pytest.mark.parametrize("bad", [{}, {**SIMPLE, "scope": None}, {**SIMPLE, "need": "maybe"}])
def test_incomplete_or_invalid_answers_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        recommend(bad)


def test_explanation_names_which_answers_pointed_where() -> None:
    answers = {**SIMPLE, "decisions": "many", "support": "alone"}
    lines = explain(recommend(answers), answers)
    text = " ".join(lines)
    assert "both" in lines[0].lower()
    second_opinion_part, navigation_part = text.split("that points to a second opinion")
    assert "specific" in second_opinion_part and "expert answer" in second_opinion_part
    assert "journey of decisions" in navigation_part and "on your own" in navigation_part


def test_explanation_for_all_bounded_mentions_no_navigation_reason() -> None:
    lines = explain(recommend(SIMPLE), SIMPLE)
    assert "second opinion" in lines[0].lower()
    assert "navigation helps" not in " ".join(lines)
