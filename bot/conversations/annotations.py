"""Staff intent annotations and answer labels exported as training data, checked against data/."""

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

from bot.db.reviews import Annotation, AnswerAnnotation, answer_values
from bot.paths import DATA
from bot.recommendation import ASSESSMENT_SLOTS

TRAINING_DIR = DATA / "nlu"
ANSWERS_TRAINING_DIR = DATA / "answers"
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


@dataclass(frozen=True)
class AnswerConflict:
    """Answer labels whose text is labelled otherwise for the same question; none are exported."""

    question: str
    text: str  # the normalised text (visitor words: show to staff only, never log it)
    label_ids: tuple[int, ...]
    labelled: tuple[str, ...]  # the values staff chose
    training: tuple[str, ...]  # the values data/answers gives the same text

    def describe(self) -> str:
        """One line naming the labels, question and values involved, without the text."""
        ids = ", ".join(f"#{i}" for i in self.label_ids)
        where = f"labelled {', '.join(self.labelled)}"
        if self.training:
            where += f"; training data has {', '.join(self.training)}"
        return f"answer labels {ids} ({self.question}): {where}"


@dataclass(frozen=True)
class AnswerExport:
    """The answer-model files to write and what was left out."""

    files: dict[str, str]  # question -> YAML of <question>.yml; only questions with examples
    exported: int  # examples written, all questions together
    duplicates: int  # labels already in data/answers (or exported once already)
    conflicts: list[AnswerConflict]


def one_line(text: str) -> str:
    """Visitor text on one line: whitespace (newlines too) collapsed, control characters gone."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch.isspace())
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """One line of visitor text (see `one_line`) fit for Rasa NLU YAML.

    Square brackets become parentheses where they would read as Rasa entity markup.
    """
    text = one_line(text)
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


def training_answers(answers_dir: Path) -> dict[str, dict[str, set[str]]]:
    """question -> normalised example text -> its labels in the answer-model files."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(answers_dir.glob("*.yml")) if answers_dir.is_dir() else []:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        question = document.get("question")
        if question not in ASSESSMENT_SLOTS:
            raise ValueError(f"{path}: 'question' must be one of {', '.join(ASSESSMENT_SLOTS)}")
        for label, texts in (document.get("examples") or {}).items():
            for text in texts or []:
                found[question][normalise(str(text))].add(str(label))
    return found


def export_answer_annotations(
    session: Session, answers_dir: Path = ANSWERS_TRAINING_DIR
) -> AnswerExport:
    """All answer labels as answer-model files, leaving out duplicates and conflicts (reported)."""
    known = training_answers(answers_dir)
    groups: dict[tuple[str, str], list[AnswerAnnotation]] = defaultdict(list)
    for label in session.scalars(select(AnswerAnnotation).order_by(AnswerAnnotation.id)):
        key = normalise(label.text)
        if key:
            groups[(label.question, key)].append(label)
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    duplicates, conflicts = 0, []
    for (question, key), group in groups.items():
        labelled = sorted({label.value for label in group})
        training = sorted(known.get(question, {}).get(key, set()))
        if len(labelled) > 1 or (training and training != labelled):
            ids = tuple(label.id for label in group)
            conflicts.append(AnswerConflict(question, key, ids, tuple(labelled), tuple(training)))
            continue
        duplicates += len(group) - (0 if training else 1)
        if not training:
            examples[question][labelled[0]].append(one_line(group[0].text))
    files = {q: answers_yaml(q, examples[q]) for q in ASSESSMENT_SLOTS if examples.get(q)}
    exported = sum(len(texts) for by_value in examples.values() for texts in by_value.values())
    return AnswerExport(files, exported, duplicates, conflicts)


def answers_yaml(question: str, examples: dict[str, list[str]]) -> str:
    """One data/answers-style file: the question, then its labels' examples, double-quoted."""
    by_value = {
        value: [DoubleQuotedScalarString(text) for text in examples[value]]
        for value in answer_values(question)
        if examples.get(value)
    }
    yaml = YAML()
    yaml.width = 4096  # keep every example on its own line
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    stream.write(
        f"# Training examples for the answer model: replies to the {question} question.\n"
        "# Staff answer labels, written by `python -m bot export-annotations`.\n"
    )
    yaml.dump({"question": question, "examples": by_value}, stream)
    return stream.getvalue()


def write_answer_export(result: AnswerExport, folder: Path) -> list[Path]:
    """Write `<question>.yml` for each question with examples; the paths written.

    This folder holds only this export's files: an earlier export's file for a question with
    nothing to export now is removed, so erased conversations leave no text behind.
    """
    written = []
    for question in ASSESSMENT_SLOTS:
        path = folder / f"{question}.yml"
        if question in result.files:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(result.files[question], encoding="utf-8")
            written.append(path)
        elif path.is_file():
            path.unlink()
    return written
