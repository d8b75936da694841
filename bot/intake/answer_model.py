"""The learned answer model: reads a free-text reply to each assessment question.

For each question it predicts one of the question's two values or "none" (not an answer),
with a probability. Features are word and character n-grams of a normalised text in which
words after a negation carry a `not_` mark ("not alone" differs from "alone"), and the
text's sentence embedding (`bot.intake.sentence_encoder`, all-MiniLM-L6-v2) for meaning beyond
the words seen in training; the classifier is a class-balanced logistic regression per
question. Trained by `rasa train` through
`bot.rasa.nlu.answers.AnswerReader`; the examples live in `data/answers/<question>.yml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.core.paths import DATA
from bot.intake.example_files import read_mapping, yaml_files
from bot.intake.recommendation import ASSESSMENT_SLOTS, SIDES
from bot.intake.sentence_encoder import embed_all

NONE = "none"
ANY_QUESTION = "any"  # an example file for every question (options named by position)
POSITIONS = ("first", "second")
ANSWERS_DIR = DATA / "answers"
# A reading at or above this probability is the answer (tuned by cross-validation on the
# training examples only; see `python -m bench`).
THRESHOLD = 0.45
C = 8.0  # inverse regularisation of the logistic regression
EMBEDDING_SCALE = 1.0  # weight of the sentence embedding against the n-gram features
# Examples of other intents teach "none" for every question, but they are many and easy:
# they count for less than a question's own examples.
NEGATIVE_WEIGHT = 0.1
# A correction changes an answer already given, so it must be read more surely.
CORRECTION_THRESHOLD = 0.75

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "`": "'", "\u00b4": "'"})
_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\bcan'?t\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bwon'?t\b", "will not"),
    (r"\bain'?t\b", "is not"),
    (r"n't\b", " not"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should)nt\b", r"\1 not"),
    (r"\bim\b", "i am"),
    (r"\bive\b", "i have"),
    (r"'m\b", " am"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"'s\b", ""),
)
NEGATORS = frozenset(
    {"not", "nt", "no", "nope", "never", "nobody", "noone", "without", "hardly", "barely", "nor"}
)
_NEGATION_REACH = 3  # words after a negator that carry its mark, within the clause


def normalise(text: str) -> str:
    """Lowercase, straighten quotes, expand contractions, mark negated words, keep clause breaks."""
    text = (text or "").lower().translate(_QUOTES)
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = text.replace("&", " and ")
    text = re.sub(r"[.,;:!?()\n]+", " . ", text)
    text = re.sub(r"[^a-z0-9. ]+", " ", text)
    words, reach = [], 0
    for word in text.split():
        if word in NEGATORS:  # a negator starts its own reach ("no, i'm not alone")
            reach = _NEGATION_REACH
        elif word == ".":
            reach = 0
        elif reach:
            words.append(f"not_{word}")
            reach -= 1
            continue
        words.append(word)
    return " ".join(words)


@dataclass(frozen=True)
class Reading:
    """The model's reading of one text for one question."""

    value: str  # one of the question's two values, or NONE
    confidence: float

    def taken(self, threshold: float = THRESHOLD) -> str | None:
        """The value if it is an answer read with enough confidence, else None."""
        return self.value if self.value != NONE and self.confidence >= threshold else None

    def as_dict(self) -> dict[str, object]:
        """The reading as stored in a message's parse data."""
        return {"value": self.value, "confidence": round(self.confidence, 4)}


class Embedding(BaseEstimator, TransformerMixin):
    """Sentence embeddings as dense features (the encoder is shared by the process, not pickled)."""

    def __init__(self, scale: float = 1.0) -> None:
        """Scale the unit vectors against the n-gram features."""
        self.scale = scale

    def fit(self, texts: list[str], labels: object = None) -> Embedding:
        """Nothing to learn: the encoder is pretrained."""
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        """One scaled embedding per text."""
        return embed_all(list(texts)) * self.scale


def new_classifier(c: float = C, scale: float = EMBEDDING_SCALE) -> Pipeline:
    """An untrained pipeline for one question: n-grams and embeddings, a logistic regression."""
    words = TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(
        preprocessor=normalise, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
    )
    features = FeatureUnion([("words", words), ("chars", chars), ("meaning", Embedding(scale))])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    return Pipeline([("features", features), ("model", model)])


class AnswerModel:
    """One classifier per assessment question."""

    def __init__(self, classifiers: dict[str, Pipeline]) -> None:
        """Wrap trained per-question classifiers."""
        self.classifiers = classifiers

    @classmethod
    def train(
        cls, examples: dict[str, list[tuple[str, str]]], negatives: Iterable[str] = ()
    ) -> AnswerModel:
        """Fit each question's classifier on its examples plus shared non-answers."""
        shared = [(text, NONE) for text in negatives]
        classifiers = {}
        for question in ASSESSMENT_SLOTS:
            own = examples.get(question, [])
            pairs = own + shared
            check_labels(question, pairs)
            weights = [1.0] * len(own) + [NEGATIVE_WEIGHT] * len(shared)
            classifier = new_classifier()
            classifier.fit(
                [t for t, _ in pairs], [label for _, label in pairs], model__sample_weight=weights
            )
            classifiers[question] = classifier
        return cls(classifiers)

    def read(self, text: str) -> dict[str, Reading]:
        """The reading of one text for every question."""
        norm = [text or ""]
        readings = {}
        for question, classifier in self.classifiers.items():
            probabilities = classifier.predict_proba(norm)[0]
            best = int(probabilities.argmax())
            readings[question] = Reading(str(classifier.classes_[best]), float(probabilities[best]))
        return readings


def check_labels(question: str, pairs: list[tuple[str, str]]) -> None:
    """Refuse labels that are not the question's values or NONE, and a value with no example."""
    allowed = {*SIDES[question], NONE}
    found = {label for _, label in pairs}
    unknown = found - allowed
    if unknown:
        raise ValueError(f"{question}: unknown labels {sorted(unknown)}")
    missing = allowed - found
    if missing:
        raise ValueError(f"{question}: no examples for {sorted(missing)}")


def load_examples(directory: Path = ANSWERS_DIR) -> dict[str, list[tuple[str, str]]]:
    """question -> (text, label) pairs from `<directory>/*.yml` (one question, or `any`)."""
    examples: dict[str, list[tuple[str, str]]] = {q: [] for q in ASSESSMENT_SLOTS}
    for path in yaml_files(directory):
        document = read_mapping(path)
        question = document.get("question")
        if question not in (*SIDES, ANY_QUESTION):
            raise ValueError(
                f"{path.name}: 'question' must be {ANY_QUESTION} or one of {sorted(SIDES)}"
            )
        for label, texts in (document.get("examples") or {}).items():
            pairs = [(str(text), str(label)) for text in texts or [] if str(text).strip()]
            for target in ASSESSMENT_SLOTS if question == ANY_QUESTION else (question,):
                examples[target] += [(text, by_position(target, lab)) for text, lab in pairs]
    return examples


def by_position(question: str, label: str) -> str:
    """A label as a value of `question`: "first"/"second" name its options in the order asked."""
    if label in POSITIONS:
        return SIDES[question][POSITIONS.index(label)]
    return label
