"""The lead warmth score and its reasons."""

from bot.booking.warmth import Signals, warmth


def test_a_cold_lead_scores_zero() -> None:
    assert warmth(Signals()) == (0, [])


def test_every_signal_counts_and_is_explained() -> None:
    score, reasons = warmth(
        Signals(
            asked_to_book=True,
            recommendation="advocacy",
            situation="caregiver",
            has_summary=True,
            human_requested=True,
            emergency_triggered=True,
        )
    )
    assert score == 100
    assert any("intro call" in r for r in reasons)
    assert any("ongoing navigation" in r for r in reasons)
    assert any("relative" in r for r in reasons)
    assert any("emergency" in r for r in reasons)


def test_second_opinion_adds_no_ongoing_support_points() -> None:
    score, reasons = warmth(Signals(asked_to_book=True, recommendation="second_opinion"))
    assert score == 60
    assert not any("ongoing support" in r for r in reasons)
