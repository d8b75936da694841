"""Staff intent annotations exported as Rasa NLU training data, checked against data/nlu."""

from __future__ import annotations

import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.nlu.training_data.entities_parser import ENTITY_REGEX
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.reviews import Annotation
from bot.paths import DATA

TRAINING_DIR = DATA / "nlu"
NLU_VERSION = "3.1"
SQUARE_BRACKETS = str.maketrans("[]", "()")


@dataclass(frozen=True)
class Conflict:
    """Annotations whose text is labelled with other intents elsewhere; none are exported."""

    text: str  # the normalised text (visitor words: show to staff only, never log it)
    annotation_ids: tuple[int, ...]
    annotated: tuple[str, ...]  # the intents staff chose
    training: tuple[str, ...]  # the intents the training data gives the same text

    def describe(self) -> str:
        """One line naming the annotations and intents involved, without the text."""
        ids = ", ".join(f"#{i}" for i in self.annotation_ids)
        where = f"annotated {', '.join(self.annotated)}"
        if self.training:
            where += f"; training data has {', '.join(self.training)}"
        return f"annotations {ids}: {where}"


@dataclass(frozen=True)
class ExportResult:
    """The exported NLU YAML and what was left out."""

    yaml_text: str
    exported: int  # examples written
    duplicates: int  # annotations already in the training data (or exported once already)
    conflicts: list[Conflict]


def clean_text(text: str) -> str:
    """One line of visitor text: whitespace (newlines too) collapsed, control characters gone.

    Square brackets become parentheses where they would read as Rasa entity markup.
    """
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch.isspace())
    text = " ".join(text.split())
    return text.translate(SQUARE_BRACKETS) if ENTITY_REGEX.search(text) else text


def normalise(text: str) -> str:
    """The comparison key of a text: cleaned, case-folded, Unicode-normalised."""
    return unicodedata.normalize("NFKC", clean_text(text)).casefold()


def training_intents(training_dir: Path) -> dict[str, set[str]]:
    """Normalised example text -> the intents it is labelled with in the NLU YAML files."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(training_dir.glob("*.yml")) + sorted(training_dir.glob("*.yaml")):
        for message in RasaYAMLReader().read(path).intent_examples:
            found[normalise(message.get("text"))].add(message.get("intent"))
    return found


def export_annotations(session: Session, training_dir: Path = TRAINING_DIR) -> ExportResult:
    """All annotations as NLU YAML, leaving out duplicates and conflicts (reported)."""
    known = training_intents(training_dir)
    groups: dict[str, list[Annotation]] = defaultdict(list)
    for annotation in session.scalars(select(Annotation).order_by(Annotation.id)):
        key = normalise(annotation.text)
        if key:
            groups[key].append(annotation)
    examples: dict[str, list[str]] = defaultdict(list)
    duplicates, conflicts = 0, []
    for key, group in groups.items():
        annotated = sorted({a.corrected_intent for a in group})
        training = sorted(known.get(key, set()))
        if len(annotated) > 1 or (training and training != annotated):
            ids = tuple(a.id for a in group)
            conflicts.append(Conflict(key, ids, tuple(annotated), tuple(training)))
            continue
        duplicates += len(group) - (0 if training else 1)
        if not training:
            examples[annotated[0]].append(clean_text(group[0].text))
    exported = sum(len(texts) for texts in examples.values())
    return ExportResult(nlu_yaml(examples), exported, duplicates, conflicts)


def nlu_yaml(examples: dict[str, list[str]]) -> str:
    """Rasa NLU YAML with one `examples: |` block per intent, intents in name order."""
    nlu = [
        {"intent": intent, "examples": LiteralScalarString(block(texts))}
        for intent, texts in sorted(examples.items())
    ]
    document = {"version": DoubleQuotedScalarString(NLU_VERSION), "nlu": nlu}
    yaml = YAML()
    yaml.width = 4096  # keep every example on its own line
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def block(texts: list[str]) -> str:
    """The examples block: one `- text` line per example."""
    return "".join(f"- {text}\n" for text in texts)


def write_export(result: ExportResult, path: Path) -> None:
    """Write the YAML (creating folders) for a later `rasa train`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.yaml_text, encoding="utf-8")
