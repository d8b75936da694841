"""Answer labels exported as answer-model training files: format, duplicates, conflicts, CLI."""

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.conversations.annotations import (
    AnswerExport,
    export_answer_annotations,
    write_answer_export,
)
from bot.conversations.events import load_events
from bot.conversations.review import annotate_answer
from bot.db.staff import AuditEntry, StaffUser
from bot.settings import get_settings
from bot.staff.accounts import create_user
from tests.support.conversations import Script, write_conversation

# The answer training data the export is checked against (a stand-in for data/answers).
TRAINING = {
    "scope": {"bounded": ["Just one question about my scan"], "complex": ["it keeps changing"],
              "none": ["hello"]},
    "support": {"has_support": ["my husband is with me"], "alone": ["nobody helps me"],
                "none": ["what does it cost"]},
}  # fmt: skip
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
EXPORTED = {
    "scope": {"complex": ["there's a new problem every week"],
              "none": ["what will the call cost me?"]},
    "decisions": {"one_time": ["naïve café ✓ I only have this one choice"],
                  "many": ["there's a new problem every week"]},
    "need": {"answer": ['she said: "it\'s [benign]" # not sure - {ok}?']},
}  # fmt: skip
HEADER = "# Training examples for the answer model: replies to the {} question."


def write_training(folder: Path, files: dict[str, dict[str, list[str]]]) -> Path:
    """Answer-model files as in data/answers, one per question."""
    folder.mkdir(parents=True, exist_ok=True)
    for question, examples in files.items():
        document = {"question": question, "examples": examples}
        text = HEADER.format(question) + "\n" + yaml.safe_dump(document, allow_unicode=True)
        (folder / f"{question}.yml").write_text(text, encoding="utf-8")
    return folder


def label_all(url: str, session: Session, user: StaffUser, conversation_id: str, labels) -> None:
    """Store one visitor message per label, then label each."""
    script = Script().session_start()
    for text, _, _ in labels:
        script.user(text, "inform", 0.7).listen()
    write_conversation(url, conversation_id, script.events)
    users = [e for e in load_events(session, conversation_id) if e.type_name == "user"]
    for event, (_, question, value) in zip(users, labels, strict=True):
        annotate_answer(session, conversation_id, event.id, question, value, user)
    session.commit()


@pytest.fixture
def training(tmp_path: Path) -> Path:
    """The answer training data to check against."""
    return write_training(tmp_path / "data" / "answers", TRAINING)


@pytest.fixture
def labelled(migrated_url: str, session: Session) -> str:
    """Two conversations whose visitor messages staff have labelled."""
    user = create_user(session, username="rita", display_name="Rita Ng", role="reviewer",
                       password="Quality review 2025")  # fmt: skip
    session.commit()
    label_all(migrated_url, session, user, "first", FIRST)
    label_all(migrated_url, session, user, "second", SECOND)
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
        order = {"scope": ["complex", "none"], "decisions": ["one_time", "many"],
                 "need": ["answer"]}[question]  # fmt: skip
        assert list(document["examples"]) == order  # the question's values, then none
        values = [line for line in lines if re.fullmatch(r"  [a-z_]+:", line)]
        assert values == [f"  {value}:" for value in order]
        examples = [line for line in lines if line.startswith("    - ")]
        assert examples and all(re.fullmatch(r'    - ".*"', line) for line in examples)


def test_the_files_read_like_the_training_data_they_join(
    session, labelled, training, tmp_path
) -> None:
    """Written and read back with the same loader as the training files, they agree."""
    out = tmp_path / "var" / "answers"
    written = write_answer_export(export_answer_annotations(session, training), out)
    assert sorted(path.name for path in written) == ["decisions.yml", "need.yml", "scope.yml"]
    assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path in written)
    merged = {q: {v: list(texts) for v, texts in examples.items()} for q, examples in
              TRAINING.items()}  # fmt: skip
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
    exported = [t for by_value in examples_of(result).values() for ts in by_value.values()
                for t in ts]  # fmt: skip
    assert not any("scan" in text.lower() or "nobody" in text for text in exported)


def test_conflicts_are_reported_by_ids_and_values_without_text(session, labelled, training) -> None:
    result = export_answer_annotations(session, training)
    conflicts = {(c.question, c.text): (c.labelled, c.training, len(c.label_ids))
                 for c in result.conflicts}  # fmt: skip
    assert conflicts == {
        ("scope", "it keeps changing"): (("bounded",), ("complex",), 1),
        ("support", "my sister drives me to appointments"): (("alone", "has_support"), (), 2),
    }
    described = [c.describe() for c in result.conflicts]
    assert re.fullmatch(r"answer labels #\d+ \(scope\): labelled bounded; "
                        r"training data has complex", described[0])  # fmt: skip
    assert re.fullmatch(r"answer labels #\d+, #\d+ \(support\): labelled alone, has_support",
                        described[1])  # fmt: skip
    assert not any("sister" in line or "changing" in line for line in described)
    exported = " ".join(result.files.values())
    assert "sister" not in exported and "changing" not in exported.lower()


def test_without_training_data_everything_new_is_exported(session, labelled, tmp_path) -> None:
    result = export_answer_annotations(session, tmp_path / "no-such-folder")
    assert result.exported == 8 and result.duplicates == 1
    assert [c.question for c in result.conflicts] == ["support"]


def test_a_training_file_without_a_question_is_refused(session, labelled, tmp_path) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "scope.yml").write_text('examples:\n  bounded:\n    - "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="'question' must be one of"):
        export_answer_annotations(session, folder)


def test_nothing_labelled_writes_nothing_and_removes_an_old_export(
    session, training, tmp_path
) -> None:
    result = export_answer_annotations(session, training)
    assert (result.files, result.exported, result.duplicates, result.conflicts) == ({}, 0, 0, [])
    out = tmp_path / "out"
    out.mkdir()
    (out / "support.yml").write_text("question: support\n", encoding="utf-8")  # a past export
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    assert write_answer_export(result, out) == []
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]


def run_export(url: str, *args: str) -> int:
    """`python -m bot export-annotations ARGS` against the database at `url`."""
    get_settings.cache_clear()
    try:
        return main(["export-annotations", *args])
    finally:
        get_settings.cache_clear()


def test_export_command_writes_the_files_and_reports_without_text(
    labelled, training, make_session, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    out = tmp_path / "var" / "annotations"
    code = run_export(labelled, "--out", str(out / "nlu.yml"), "--answers-out",
                      str(out / "answers"), "--answers-training-dir", str(training))  # fmt: skip
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
    with make_session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.actor, entry.action) == ("cli:export-annotations", "export_annotations")
    assert entry.details == {"exported": 0, "duplicates": 0, "conflicts": 0,
                             "answers_exported": 5, "answers_duplicates": 3,
                             "answers_conflicts": 2}  # fmt: skip


def test_export_command_will_not_write_over_the_training_data(
    labelled, training, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    before = {path.name: path.read_text(encoding="utf-8") for path in training.iterdir()}
    code = run_export(labelled, "--out", str(tmp_path / "nlu.yml"), "--answers-out",
                      str(training), "--answers-training-dir", str(training))  # fmt: skip
    assert code == 2
    assert "--answers-out must not be" in capsys.readouterr().err
    assert {path.name: path.read_text(encoding="utf-8") for path in training.iterdir()} == before
    assert not (tmp_path / "nlu.yml").exists()
