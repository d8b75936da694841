"""Answer labels exported as answer-model training files: format, duplicates, conflicts, CLI."""

import re
from functools import partial
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from bot.conversations.annotations import (
    AnswerExport,
    export_answer_annotations,
    training_answers,
    write_answer_export,
)
from bot.conversations.review import annotate_answer
from bot.db.staff import StaffUser
from bot.intake.answer_model import ANSWERS_DIR
from bot.intake.recommendation import ASSESSMENT_SLOTS
from tests.support import labels as shared

# The answer training data the export is checked against (a stand-in for data/answers).
TRAINING = {
    "scope": {
        "bounded": ["Just one question about my scan"],
        "complex": ["it keeps changing"],
        "none": ["hello"],
    },
    "support": {
        "has_support": ["my husband is with me"],
        "alone": ["nobody helps me"],
        "none": ["what does it cost"],
    },
}
# (text, question, value) labelled in conversation "first", then in "second".
FIRST = [
    ("just one question   about my SCAN", "scope", "bounded"),  # in TRAINING: a duplicate
    ("It keeps changing", "scope", "bounded"),  # TRAINING says complex: a conflict
    ("there's a new problem every week", "scope", "complex"),
    ("there's a new problem every week", "decisions", "many"),  # another question: fine
    ("what will the call cost me?", "scope", "none"),
    ('she said: "it\'s [benign]" # not sure - {ok}?', "need", "answer"),
    ("naïve café ✓\nI only have\tthis one choice", "decisions", "one_time"),
    ("my sister drives me to appointments", "support", "has_support"),
    ("nobody helps me", "support", "alone"),  # in TRAINING with the same label: a duplicate
]
SECOND = [
    ("There's a new problem  every week", "scope", "complex"),  # exported once already
    ("my sister drives me to appointments", "support", "alone"),  # staff disagree: a conflict
]
LABELLED = {"first": FIRST, "second": SECOND}
EXPORTED = {
    "scope": {
        "complex": ["there's a new problem every week"],
        "none": ["what will the call cost me?"],
    },
    "decisions": {
        "one_time": ["naïve café ✓ I only have this one choice"],
        "many": ["there's a new problem every week"],
    },
    "need": {"answer": ['she said: "it\'s [benign]" # not sure - {ok}?']},
}
HEADER = "# Training examples for the answer model: replies to the {} question."


@pytest.fixture
def training(tmp_path: Path) -> Path:
    """The answer training data to check against: files as in data/answers, one per question."""
    documents = {q: {"question": q, "examples": examples} for q, examples in TRAINING.items()}
    return shared.write_training(tmp_path / "data" / "answers", documents, HEADER)


@pytest.fixture
def labelled(migrated_url: str, session: Session, user: StaffUser) -> str:
    """Two conversations whose visitor messages staff have labelled."""
    shared.label_all(migrated_url, session, LABELLED, partial(annotate_answer, user=user))
    return migrated_url


def examples_of(result: AnswerExport) -> dict[str, dict[str, list[str]]]:
    """The exported examples by question and value, as the YAML reads back."""
    found = {}
    for question, text in result.files.items():
        document = yaml.safe_load(text)
        assert set(document) == {"question", "examples"}
        assert document["question"] == question
        found[question] = document["examples"]
    return found


def test_export_reads_back_as_the_labelled_examples(session, labelled, training) -> None:
    result = export_answer_annotations(session, training)
    assert examples_of(result) == EXPORTED
    assert result.exported == 5
    assert "support" not in result.files  # nothing left to export for support


def test_files_have_the_data_answers_format(session, labelled, training) -> None:
    result = export_answer_annotations(session, training)
    for question, text in result.files.items():
        lines = text.splitlines()
        assert lines[0] == HEADER.format(question)
        assert f"question: {question}" in lines and "examples:" in lines
        document = yaml.safe_load(text)
        order = {
            "scope": ["complex", "none"],
            "decisions": ["one_time", "many"],
            "need": ["answer"],
        }[question]
        assert list(document["examples"]) == order  # the question's values, then none
        values = [line for line in lines if re.fullmatch(r"  [a-z_]+:", line)]
        assert values == [f"  {value}:" for value in order]
        assert shared.double_quoted([line for line in lines if line.startswith("    - ")])


def test_the_files_read_like_the_training_data_they_join(
    session, labelled, training, tmp_path
) -> None:
    """Written and read back with the same loader as the training files, they agree."""
    out = tmp_path / "var" / "answers"
    written = write_answer_export(export_answer_annotations(session, training), out)
    assert sorted(path.name for path in written) == ["decisions.yml", "need.yml", "scope.yml"]
    assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path in written)
    merged = {
        q: {v: list(texts) for v, texts in examples.items()} for q, examples in TRAINING.items()
    }
    for path in written:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for value, texts in document["examples"].items():
            merged.setdefault(document["question"], {}).setdefault(value, []).extend(texts)
    assert merged["scope"]["complex"] == ["it keeps changing", "there's a new problem every week"]
    assert merged["need"] == {"answer": ['she said: "it\'s [benign]" # not sure - {ok}?']}


def test_duplicates_of_training_data_and_of_each_other_are_counted(
    session, labelled, training
) -> None:
    result = export_answer_annotations(session, training)
    # "just one question..." and "nobody helps me" are in TRAINING; "There's a new problem
    # every week" (scope) repeats in the second conversation.
    assert result.duplicates == 3
    exported = [
        t for by_value in examples_of(result).values() for ts in by_value.values() for t in ts
    ]
    assert not any("scan" in text.lower() or "nobody" in text for text in exported)


def test_conflicts_are_reported_by_ids_and_values_without_text(session, labelled, training) -> None:
    result = export_answer_annotations(session, training)
    conflicts = {
        (c.question, c.text): (c.labelled, c.training, len(c.label_ids)) for c in result.conflicts
    }
    assert conflicts == {
        ("scope", "it keeps changing"): (("bounded",), ("complex",), 1),
        ("support", "my sister drives me to appointments"): (("alone", "has_support"), (), 2),
    }
    described = [c.describe() for c in result.conflicts]
    assert re.fullmatch(
        r"answer labels #\d+ \(scope\): labelled bounded; "
        r"training data has complex",
        described[0],
    )
    assert re.fullmatch(
        r"answer labels #\d+, #\d+ \(support\): labelled alone, has_support", described[1]
    )
    assert not any("sister" in line or "changing" in line for line in described)
    exported = " ".join(result.files.values())
    assert "sister" not in exported and "changing" not in exported.lower()


def test_without_training_data_everything_new_is_exported(session, labelled, tmp_path) -> None:
    result = export_answer_annotations(session, tmp_path / "no-such-folder")
    assert result.exported == 8 and result.duplicates == 1
    assert [c.question for c in result.conflicts] == ["support"]


def test_a_training_file_without_a_question_is_refused(session, labelled, tmp_path) -> None:
    broken = {"scope.yml": 'examples:\n  bounded:\n    - "x"\n'}
    export = partial(export_answer_annotations, session)
    shared.refuses_training(export, tmp_path / "answers", broken, "'question' must be")


def test_nothing_labelled_writes_nothing_and_removes_an_old_export(
    session, training, tmp_path
) -> None:
    result = export_answer_annotations(session, training)
    shared.clears_old_export(result, write_answer_export, tmp_path / "out", "support.yml")


def test_export_command_writes_the_files_and_reports_without_text(
    labelled, training, make_session, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    out = tmp_path / "var" / "annotations"
    code = shared.run_export(*shared.outputs(out), "--answers-training-dir", str(training))
    assert code == 0
    printed = capsys.readouterr().out
    for question in ("scope", "decisions", "need"):
        assert f"wrote {out / 'answers' / question}.yml" in printed
    assert "support.yml" not in printed
    assert "answer labels exported: 5" in printed and "answer duplicates: 3" in printed
    assert "answer conflicts: 2" in printed
    assert "(scope): labelled bounded; training data has complex" in printed
    assert "sister" not in printed and "changing" not in printed.lower()
    scope = yaml.safe_load((out / "answers" / "scope.yml").read_text(encoding="utf-8"))
    assert scope == {"question": "scope", "examples": EXPORTED["scope"]}
    details = shared.export_audit(make_session)
    assert details == {
        "exported": 0,
        "duplicates": 0,
        "conflicts": 0,
        "answers_exported": 5,
        "answers_duplicates": 3,
        "answers_conflicts": 2,
        "risk_exported": 0,
        "risk_duplicates": 0,
        "risk_conflicts": 0,
    }


def test_export_command_will_not_write_over_the_training_data(
    labelled, training, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    args = ["--answers-out", str(training), "--answers-training-dir", str(training)]
    args += ["--safety-out", str(tmp_path / "safety")]
    printed = shared.refused_export(capsys, training, "--out", str(tmp_path / "nlu.yml"), *args)
    assert "--answers-out must not be" in printed
    assert not (tmp_path / "nlu.yml").exists()


def test_the_real_answer_data_is_read_with_its_options_file(session, user, migrated_url) -> None:
    """data/answers' `question: any` file counts for every question, by position."""
    assert (
        yaml.safe_load((ANSWERS_DIR / "options.yml").read_text(encoding="utf-8"))["question"]
        == "any"
    )
    known = training_answers(ANSWERS_DIR)
    assert {q: known[q]["the first option"] for q in ASSESSMENT_SLOTS} == {
        "scope": {"bounded"},
        "decisions": {"one_time"},
        "need": {"answer"},
        "support": {"has_support"},
    }
    assert known["support"]["the second option"] == {"alone"}
    labels = [
        ("The first  option", "scope", "bounded"),  # in options.yml: a duplicate
        ("the second option", "decisions", "one_time"),  # options.yml says many
        ("my cousin flies in for every appointment", "support", "has_support"),
    ]
    shared.label_all(migrated_url, session, {"real": labels}, partial(annotate_answer, user=user))
    result = export_answer_annotations(session, ANSWERS_DIR)
    assert (result.exported, result.duplicates) == (1, 1)
    assert [c.describe() for c in result.conflicts] == [
        f"answer labels #{result.conflicts[0].label_ids[0]} (decisions): labelled one_time; "
        "training data has many"
    ]
    assert examples_of(result) == {
        "support": {"has_support": ["my cousin flies in for every appointment"]}
    }
