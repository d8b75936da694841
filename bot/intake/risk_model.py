"""The learned risk model: is a message an acute emergency, a crisis, or neither, and how sure.

Classes are `acute` (physical danger now: 911), `crisis` (suicidal thoughts, self-harm, harm to
others: 988) and `none`. Features are the answer model's: word and character n-grams of the
negation-marked text plus the message's sentence embedding (`bot.intake.sentence_encoder`, computed
once per message and shared with the answer model). The classifier is a class-balanced
logistic regression. Trained by `rasa train` through `bot.rasa.nlu.risk.RiskReader` on
`data/safety/*.yml` and the intents that are never emergencies; the red-flag guard
(`bot.intake.safety`) stays beside it, and either one firing means risk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sklearn.pipeline import Pipeline

from bot.core.paths import DATA
from bot.intake.answer_model import new_classifier
from bot.intake.example_files import read_mapping, yaml_files
from bot.intake.risk import ACUTE, CRISIS, HIGH, LABELS, MODERATE, NONE, UNCLEAR

SAFETY_DIR = DATA / "safety"
# Risk probability (acute + crisis) at or above which a message gets the full emergency reply,
# and the lower one at which it gets the line with the numbers first (tuned by cross-validation
# on the training data only; see `python -m bench`).
HIGH_THRESHOLD = 0.8
MODERATE_THRESHOLD = 0.5
# The kind is named only when it is this many times likelier than the other; else unclear.
KIND_MARGIN = 3.0
C = 16.0
# A long message is also read sentence by sentence: the danger may be one clause of it.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
MIN_SENTENCE_WORDS = 2
# Examples of other intents and assessment answers teach `none` too, but they are many and
# mostly easy: they count for less than the written hard negatives.
BACKGROUND_WEIGHT = 1.0


@dataclass(frozen=True)
class SafetyExample:
    """One training example of the risk model."""

    text: str
    label: str  # acute, crisis or none
    category: str  # e.g. cardiac, plan, idioms


@dataclass(frozen=True)
class RiskReading:
    """The model's reading of one message."""

    acute: float
    crisis: float

    @property
    def score(self) -> float:
        """The probability that the message signals any risk."""
        return self.acute + self.crisis

    @property
    def label(self) -> str:
        """The likeliest class."""
        scores = {ACUTE: self.acute, CRISIS: self.crisis, NONE: 1.0 - self.score}
        return max(scores, key=lambda name: scores[name])

    @property
    def kind(self) -> str:
        """acute or crisis when one clearly outweighs the other, else unclear."""
        if self.acute >= KIND_MARGIN * self.crisis:
            return ACUTE
        if self.crisis >= KIND_MARGIN * self.acute:
            return CRISIS
        return UNCLEAR

    def level(self, high: float = HIGH_THRESHOLD, moderate: float = MODERATE_THRESHOLD) -> str:
        """high, moderate or none, from the risk probability."""
        if self.score >= high:
            return HIGH
        return MODERATE if self.score >= moderate else NONE


class RiskModel:
    """A three-class classifier over n-grams and the sentence embedding."""

    def __init__(self, classifier: Pipeline) -> None:
        """Wrap a trained pipeline."""
        self.classifier = classifier

    @classmethod
    def train(
        cls, examples: Iterable[SafetyExample], background: Iterable[str] = (), c: float = C
    ) -> RiskModel:
        """Fit on the safety examples plus background texts that are never emergencies."""
        own = list(examples)
        check_labels(own)
        extra = [t for t in dict.fromkeys(background) if t.strip()]
        texts = [e.text for e in own] + extra
        labels = [e.label for e in own] + [NONE] * len(extra)
        weights = [1.0] * len(own) + [BACKGROUND_WEIGHT] * len(extra)
        classifier = new_classifier(c=c)
        classifier.fit(texts, labels, model__sample_weight=weights)
        return cls(classifier)

    def read_all(self, texts: list[str]) -> list[RiskReading]:
        """The readings of several texts."""
        probabilities = self.classifier.predict_proba([t or "" for t in texts])
        classes = list(self.classifier.classes_)
        acute, crisis = classes.index(ACUTE), classes.index(CRISIS)
        return [RiskReading(float(row[acute]), float(row[crisis])) for row in probabilities]

    def read(self, text: str) -> RiskReading:
        """The most worrying reading of the whole text and of each of its sentences."""
        return max(self.read_all(segments(text)), key=lambda reading: reading.score)


def segments(text: str) -> list[str]:
    """The text, then its sentences when it has more than one."""
    sentences = [
        part for part in SENTENCE_BREAK.split(text or "") if len(part.split()) >= MIN_SENTENCE_WORDS
    ]
    return [text, *sentences] if len(sentences) > 1 else [text]


def check_labels(examples: list[SafetyExample]) -> None:
    """Refuse unknown labels, and a class with no example."""
    found = {e.label for e in examples}
    if unknown := found - set(LABELS):
        raise ValueError(f"unknown risk labels {sorted(unknown)}")
    if missing := set(LABELS) - found:
        raise ValueError(f"no risk examples for {sorted(missing)}")


def parse_safety_file(path: Path) -> list[SafetyExample]:
    """The examples of one file: `label:` and `categories:` (category -> list of texts)."""
    document = read_mapping(path)
    label = document.get("label")
    if label not in LABELS:
        raise ValueError(f"{path.name}: 'label' must be one of {', '.join(LABELS)}")
    categories = document.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise ValueError(f"{path.name}: 'categories' must map category names to lists of texts")
    examples = []
    for category, texts in categories.items():
        if not isinstance(texts, list):
            raise ValueError(f"{path.name}: category {category!r} must be a list of texts")
        examples += [SafetyExample(str(t), label, str(category)) for t in texts if str(t).strip()]
    return examples


def load_safety_examples(directory: Path = SAFETY_DIR) -> list[SafetyExample]:
    """Every example in `<directory>/*.yml`."""
    return [e for path in yaml_files(directory) for e in parse_safety_file(path)]
