"""The learned scope model: is a message this firm's business, or out of scope?

A binary classifier over the answer model's features (word and character n-grams plus the
shared sentence embedding), trained by `rasa train` through `bot.rasa.nlu.scope.ScopeReader` on
the `out_of_scope` examples (plus the look-alikes in `data/scope/`, which only this model
reads) against every other intent's examples and the assessment answers. The embedding
carries meaning beyond the words seen in training, so a request about a puppy's name or a
store's hours lands out of scope without a word list.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sklearn.pipeline import Pipeline

from bot.core.paths import DATA
from bot.intake.answer_model import new_classifier
from bot.intake.example_files import read_mapping, yaml_files

OUT = "out_of_scope"
IN = "in_scope"
SCOPE_DIR = DATA / "scope"  # out-of-scope look-alikes for this model only, not for DIET
# A message is out of scope at or above this probability (checked on the held-out sets).
THRESHOLD = 0.7
C = 4.0


class ScopeModel:
    """In scope or out of scope, with a probability."""

    def __init__(self, classifier: Pipeline) -> None:
        """Wrap a trained pipeline."""
        self.classifier = classifier

    @classmethod
    def train(cls, outside: Iterable[str], inside: Iterable[str], c: float = C) -> ScopeModel:
        """Fit on out-of-scope texts against in-scope ones."""
        out, inn = list(dict.fromkeys(outside)), list(dict.fromkeys(inside))
        if not out or not inn:
            raise ValueError("the scope model needs in-scope and out-of-scope examples")
        classifier = new_classifier(c=c)
        classifier.fit(out + inn, [OUT] * len(out) + [IN] * len(inn))
        return cls(classifier)

    def out_of_scope(self, text: str) -> float:
        """The probability that the text is not this firm's business."""
        probabilities = self.classifier.predict_proba([text or ""])[0]
        return float(probabilities[list(self.classifier.classes_).index(OUT)])


def parse_scope_file(path: Path) -> list[str]:
    """The texts of one file: `examples:` (a list of out-of-scope requests)."""
    examples = read_mapping(path).get("examples")
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ValueError(f"{path.name}: 'examples' must be a list of texts")
    return [e.strip() for e in examples if e.strip()]


def load_scope_examples(directory: Path = SCOPE_DIR) -> list[str]:
    """Every out-of-scope example in `<directory>/*.yml`."""
    return [text for path in yaml_files(directory) for text in parse_scope_file(path)]
