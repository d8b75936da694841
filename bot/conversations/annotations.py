"""Staff intent annotations, answer and risk labels as training data, checked against data/."""

from __future__ import annotations

import io
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from rasa.shared.nlu.training_data.entities_parser import ENTITY_REGEX
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.paths import DATA
from bot.db.reviews import RISK_LABELS, Annotation, AnswerAnnotation, RiskAnnotation, answer_values
from bot.intake.answer_model import load_examples
from bot.intake.recommendation import ASSESSMENT_SLOTS
from bot.intake.risk_model import load_safety_examples

TRAINING_DIR = DATA / "nlu"
ANSWERS_TRAINING_DIR = DATA / "answers"
SAFETY_TRAINING_DIR = DATA / "safety"
STAFF_CATEGORY = "staff_labels"  # the category of exported risk labels in data/safety files
NLU_VERSION = "3.1"
SQUARE_BRACKETS = str.maketrans("[]", "()")

Row = TypeVar("Row", Annotation, AnswerAnnotation, RiskAnnotation)  # a staff label's row
Key = TypeVar("Key", str, tuple[str, str])  # a label group: normalised text (and question)
Found = TypeVar("Found")  # a conflict as reported


@dataclass(frozen=True)
class ExportResult:
    """The exported NLU YAML and what was left out."""

    yaml_text: str
    exported: int  # examples written
    duplicates: int  # annotations already in the training data (or exported once already)
    conflicts: list[Conflict]


@dataclass(frozen=True)
class LabelConflict:
    """Staff labels (intents, answers, risks) whose text is labelled otherwise; none exported."""

    text: str  # the normalised text (visitor words: show to staff only, never log it)
    label_ids: tuple[int, ...]
    labelled: tuple[str, ...]  # the labels staff chose
    training: tuple[str, ...]  # the labels the training data gives the same text
    chose: ClassVar[str] = "labelled"  # how `describe` says what staff chose

    def describe(self) -> str:
        """One line naming the labels involved, without the text."""
        return f"{self.subject()}: {disagreement(self.chose, self.labelled, self.training)}"

    def subject(self) -> str:
        """The labels' kind and ids, as `describe` starts."""
        raise NotImplementedError


@dataclass(frozen=True)
class Conflict(LabelConflict):
    """Annotations whose text is labelled with other intents elsewhere (in data/nlu)."""

    chose: ClassVar[str] = "annotated"

    def subject(self) -> str:
        """The annotations' ids."""
        return f"annotations {id_list(self.label_ids)}"


@dataclass(frozen=True)
class AnswerConflict(LabelConflict):
    """Answer labels whose text is labelled otherwise for the same question (in data/answers)."""

    question: str

    def subject(self) -> str:
        """The labels' ids and question."""
        return f"answer labels {id_list(self.label_ids)} ({self.question})"


@dataclass(frozen=True)
class RiskConflict(LabelConflict):
    """Risk labels whose text is labelled otherwise (in data/safety)."""

    def subject(self) -> str:
        """The labels' ids."""
        return f"risk labels {id_list(self.label_ids)}"


@dataclass(frozen=True)
class ModelExport(Generic[Found]):
    """A model's training files to write and what was left out."""

    files: dict[str, str]  # name -> YAML of <name>.yml; only names with examples
    exported: int  # examples written, all files together
    duplicates: int  # labels already in the training data (or exported once already)
    conflicts: list[Found]


@dataclass(frozen=True)
class AnswerExport(ModelExport[AnswerConflict]):
    """The answer-model files (question -> YAML of <question>.yml) to write; see ModelExport."""


@dataclass(frozen=True)
class RiskExport(ModelExport[RiskConflict]):
    """The risk-model files (label -> YAML of <label>.yml) to write; see ModelExport."""


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


def id_list(ids: tuple[int, ...]) -> str:
    """Label ids as a conflict names them: `#3, #7`."""
    return ", ".join(f"#{i}" for i in ids)


def disagreement(verb: str, chosen: tuple[str, ...], training: tuple[str, ...]) -> str:
    """What staff chose and, if anything, what the training data gives the same text."""
    where = f"{verb} {', '.join(chosen)}"
    return f"{where}; training data has {', '.join(training)}" if training else where


def known_labels(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Normalised text -> the labels that (text, label) training pairs give it."""
    found: dict[str, set[str]] = defaultdict(set)
    for text, label in pairs:
        found[normalise(text)].add(label)
    return found


def by_text(row: Row, text: str) -> str:
    """The group of an intent or risk label: its normalised text."""
    return text


def by_question(row: AnswerAnnotation, text: str) -> tuple[str, str]:
    """The group of an answer label: its question and normalised text."""
    return (row.question, text)


@dataclass(frozen=True)
class LabelKind(Generic[Row, Key, Found]):
    """How one kind of staff label is grouped, read, exported and reported."""

    model: type[Row]
    group: Callable[[Row, str], Key]  # a row's group, given its normalised text
    label: Callable[[Row], str]  # what staff chose
    clean: Callable[[str], str]  # the text as exported
    conflict: Callable[[Key, tuple[int, ...], tuple[str, ...], tuple[str, ...]], Found]


@dataclass(frozen=True)
class Checked(Generic[Key, Found]):
    """Staff labels checked against the training data: the new examples and what is left out."""

    new: list[tuple[Key, str, str]]  # each new example's group, label and exported text
    duplicates: int  # labels already in the training data (or exported once already)
    conflicts: list[Found]


def grouped(rows: Iterable[Row], group: Callable[[Row, str], Key]) -> dict[Key, list[Row]]:
    """Rows by their group, in row order; rows whose text normalises to nothing are left out."""
    groups: dict[Key, list[Row]] = defaultdict(list)
    for row in rows:
        key = normalise(row.text)
        if key:
            groups[group(row, key)].append(row)
    return groups


def check_labels(
    session: Session, kind: LabelKind[Row, Key, Found], known: Mapping[Key, set[str]]
) -> Checked[Key, Found]:
    """Every label of a kind, one example per group, unless a duplicate or in conflict."""
    rows = session.scalars(select(kind.model).order_by(kind.model.id))
    new: list[tuple[Key, str, str]] = []
    duplicates, conflicts = 0, []
    for key, group in grouped(rows, kind.group).items():
        labelled = sorted({kind.label(row) for row in group})
        training = sorted(known.get(key, set()))
        if len(labelled) > 1 or (training and training != labelled):
            ids = tuple(row.id for row in group)
            conflicts.append(kind.conflict(key, ids, tuple(labelled), tuple(training)))
            continue
        duplicates += len(group) - (0 if training else 1)
        if not training:
            new.append((key, labelled[0], kind.clean(group[0].text)))
    return Checked(new, duplicates, conflicts)


def by_label(new: Iterable[tuple[Any, str, str]]) -> dict[str, list[str]]:
    """New examples' texts by label, in export order."""
    examples: dict[str, list[str]] = defaultdict(list)
    for _, label, text in new:
        examples[label].append(text)
    return examples


def model_yaml(header: str, document: dict[str, Any]) -> str:
    """A data/answers- or data/safety-style file: comment lines, then its double-quoted texts."""
    yaml = YAML()
    yaml.width = 4096  # type: ignore[assignment]  # every example on its own line
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    stream.write(header)
    yaml.dump(document, stream)
    return stream.getvalue()


def write_files(files: Mapping[str, str], names: Sequence[str], folder: Path) -> list[Path]:
    """Write `<name>.yml` for each name with a file; the paths written.

    The folder holds only this export's files: an earlier export's file for a name with nothing
    to export now is removed, so erased conversations leave no text behind.
    """
    written = []
    for name in names:
        path = folder / f"{name}.yml"
        if name in files:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(files[name], encoding="utf-8")
            written.append(path)
        elif path.is_file():
            path.unlink()
    return written


def training_intents(training_dir: Path) -> dict[str, set[str]]:
    """Normalised example text -> the intents it is labelled with in the NLU YAML files."""
    paths = sorted(training_dir.glob("*.yml")) + sorted(training_dir.glob("*.yaml"))
    messages = (m for path in paths for m in RasaYAMLReader().read(path).intent_examples)
    return known_labels((m.get("text"), m.get("intent")) for m in messages)


INTENT_KIND = LabelKind(Annotation, by_text, attrgetter("corrected_intent"), clean_text, Conflict)


def export_annotations(session: Session, training_dir: Path = TRAINING_DIR) -> ExportResult:
    """All annotations as NLU YAML, leaving out duplicates and conflicts (reported)."""
    checked = check_labels(session, INTENT_KIND, training_intents(training_dir))
    yaml_text = nlu_yaml(by_label(checked.new))
    return ExportResult(yaml_text, len(checked.new), checked.duplicates, checked.conflicts)


def nlu_yaml(examples: dict[str, list[str]]) -> str:
    """Rasa NLU YAML with one `examples: |` block per intent, intents in name order."""
    nlu = [
        {"intent": intent, "examples": LiteralScalarString(block(texts))}
        for intent, texts in sorted(examples.items())
    ]
    document = {"version": DoubleQuotedScalarString(NLU_VERSION), "nlu": nlu}
    yaml = YAML()
    yaml.width = 4096  # type: ignore[assignment]  # every example on its own line
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
    """question -> normalised example text -> its labels, read as the answer model's training does.

    A `question: any` file counts for every question, its `first`/`second` labels as the
    question's values (`bot.intake.answer_model.load_examples`).
    """
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    examples = load_examples(answers_dir) if answers_dir.is_dir() else {}
    for question, pairs in examples.items():
        for text, label in pairs:
            found[question][normalise(text)].add(label)
    return found


def answer_conflict(
    key: tuple[str, str], ids: tuple[int, ...], labelled: tuple[str, ...], training: tuple[str, ...]
) -> AnswerConflict:
    """The conflict of one group of answer labels (its question and text)."""
    question, text = key
    return AnswerConflict(text, ids, labelled, training, question)


ANSWER_KIND = LabelKind(
    AnswerAnnotation, by_question, attrgetter("value"), one_line, answer_conflict
)


def export_answer_annotations(
    session: Session, answers_dir: Path = ANSWERS_TRAINING_DIR
) -> AnswerExport:
    """All answer labels as answer-model files, leaving out duplicates and conflicts (reported)."""
    known = training_answers(answers_dir)
    keys = {(q, text): labels for q, texts in known.items() for text, labels in texts.items()}
    checked = check_labels(session, ANSWER_KIND, keys)
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for (question, _), value, text in checked.new:
        examples[question][value].append(text)
    files = {q: answers_yaml(q, examples[q]) for q in ASSESSMENT_SLOTS if examples.get(q)}
    return AnswerExport(files, len(checked.new), checked.duplicates, checked.conflicts)


def answers_yaml(question: str, examples: dict[str, list[str]]) -> str:
    """One data/answers-style file: the question, then its labels' examples, double-quoted."""
    by_value = {
        value: [DoubleQuotedScalarString(text) for text in examples[value]]
        for value in answer_values(question)
        if examples.get(value)
    }
    header = (
        f"# Training examples for the answer model: replies to the {question} question.\n"
        "# Staff answer labels, written by `python -m bot export-annotations`.\n"
    )
    return model_yaml(header, {"question": question, "examples": by_value})


def write_answer_export(result: AnswerExport, folder: Path) -> list[Path]:
    """Write `<question>.yml` for each question with examples (see `write_files`)."""
    return write_files(result.files, ASSESSMENT_SLOTS, folder)


def training_risks(safety_dir: Path) -> dict[str, set[str]]:
    """Normalised example text -> its labels, as the risk model's training reads data/safety."""
    return known_labels((e.text, e.label) for e in load_safety_examples(safety_dir))


RISK_KIND = LabelKind(RiskAnnotation, by_text, attrgetter("label"), one_line, RiskConflict)


def export_risk_annotations(session: Session, safety_dir: Path = SAFETY_TRAINING_DIR) -> RiskExport:
    """All risk labels as risk-model files, leaving out duplicates and conflicts (reported)."""
    checked = check_labels(session, RISK_KIND, training_risks(safety_dir))
    examples = by_label(checked.new)
    files = {
        label: safety_yaml(label, examples[label]) for label in RISK_LABELS if label in examples
    }
    return RiskExport(files, len(checked.new), checked.duplicates, checked.conflicts)


def safety_yaml(label: str, texts: list[str]) -> str:
    """One data/safety-style file: the label, then the staff category's texts, double-quoted."""
    header = (
        f"# Training examples for the risk model: {label}.\n"
        "# Staff risk labels, written by `python -m bot export-annotations`.\n"
    )
    categories = {STAFF_CATEGORY: [DoubleQuotedScalarString(text) for text in texts]}
    return model_yaml(header, {"label": label, "categories": categories})


def write_risk_export(result: RiskExport, folder: Path) -> list[Path]:
    """Write `<label>.yml` for each risk label with examples (see `write_files`)."""
    return write_files(result.files, RISK_LABELS, folder)
