"""Risk labels exported as risk-model training files: format, duplicates, conflicts, the CLI."""

import re
from functools import partial
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from bot.conversations.annotations import (
    RiskExport,
    export_risk_annotations,
    write_risk_export,
)
from bot.conversations.review import annotate_risk
from bot.db.staff import StaffUser
from bot.intake.risk_model import SafetyExample, load_safety_examples
from tests.support import labels as shared

# The safety training data the export is checked against (a stand-in for data/safety).
TRAINING = {
    "acute": {"breathing": ["he can't breathe and he's turning blue"]},
    "crisis": {"plan": ["i have a plan to end it tonight"]},
    "none": {"idioms": ["this wait is killing me"]},
}
# (text, label) labelled in conversation "first", then in "second".
FIRST = [
    ("He can't  breathe and he's turning BLUE", "acute"),  # in TRAINING: a duplicate
    ("this wait is killing me", "crisis"),  # TRAINING says none: a conflict
    ("gave my dog to my sister, she'll need him more than me soon", "crisis"),
    ("my chest feels like an elephant is on it\nand my left arm is numb", "acute"),
    ("she said \"i'm fine\" # but she won't wake up: {ok}?", "acute"),
    ("i'm dying to know what the intro call costs", "none"),
    ("i keep thinking about ending things", "crisis"),
]
SECOND = [
    ("I keep thinking about ending things", "crisis"),  # exported once already
    ("my mum had a stroke in 2019", "none"),
    ("my mum had a stroke in 2019", "acute"),  # staff disagree (two messages): a conflict
]
LABELLED = {"first": FIRST, "second": SECOND}
EXPORTED = {
    "acute": [
        "my chest feels like an elephant is on it and my left arm is numb",
        "she said \"i'm fine\" # but she won't wake up: {ok}?",
    ],
    "crisis": [
        "gave my dog to my sister, she'll need him more than me soon",
        "i keep thinking about ending things",
    ],
    "none": ["i'm dying to know what the intro call costs"],
}
HEADER = "# Training examples for the risk model: {}."


@pytest.fixture
def training(tmp_path: Path) -> Path:
    """The safety training data to check against: files as in data/safety, one per label."""
    documents = {label: {"label": label, "categories": c} for label, c in TRAINING.items()}
    return shared.write_training(tmp_path / "data" / "safety", documents)


@pytest.fixture
def labelled(migrated_url: str, session: Session, user: StaffUser) -> str:
    """Two conversations whose visitor messages staff have labelled."""
    shared.label_all(migrated_url, session, LABELLED, partial(annotate_risk, user=user))
    return migrated_url


def examples_of(result: RiskExport) -> dict[str, list[str]]:
    """The exported texts by label, as the YAML reads back."""
    found = {}
    for label, text in result.files.items():
        document = yaml.safe_load(text)
        assert set(document) == {"label", "categories"} and document["label"] == label
        assert list(document["categories"]) == ["staff_labels"]
        found[label] = document["categories"]["staff_labels"]
    return found


def test_export_reads_back_as_the_labelled_examples(session, labelled, training) -> None:
    result = export_risk_annotations(session, training)
    assert examples_of(result) == EXPORTED
    assert result.exported == 5


def test_files_have_the_data_safety_format(session, labelled, training) -> None:
    for label, text in export_risk_annotations(session, training).files.items():
        lines = text.splitlines()
        assert lines[0] == HEADER.format(label)
        assert lines[2:5] == [f"label: {label}", "categories:", "  staff_labels:"]
        assert shared.double_quoted(lines[5:])


def test_written_files_load_with_the_risk_models_loader(
    session, labelled, training, tmp_path
) -> None:
    out = tmp_path / "var" / "safety"
    written = write_risk_export(export_risk_annotations(session, training), out)
    assert [path.name for path in written] == ["acute.yml", "crisis.yml", "none.yml"]
    loaded = load_safety_examples(out)
    assert sorted(loaded, key=lambda e: (e.label, e.text)) == sorted(
        (
            SafetyExample(text, label, "staff_labels")
            for label, texts in EXPORTED.items()
            for text in texts
        ),
        key=lambda e: (e.label, e.text),
    )
    merged = load_safety_examples(training) + loaded  # what training would read once merged
    assert {e.label for e in merged} == {"acute", "crisis", "none"}


def test_duplicates_of_training_data_and_of_each_other_are_counted(
    session, labelled, training
) -> None:
    result = export_risk_annotations(session, training)
    assert result.duplicates == 2  # "he can't breathe..." is in TRAINING; "i keep thinking..."
    exported = [text for texts in examples_of(result).values() for text in texts]
    assert not any("breathe" in text for text in exported)


def test_conflicts_are_reported_by_ids_and_labels_without_text(session, labelled, training) -> None:
    result = export_risk_annotations(session, training)
    conflicts = {c.text: (c.labelled, c.training, len(c.label_ids)) for c in result.conflicts}
    assert conflicts == {
        "this wait is killing me": (("crisis",), ("none",), 1),
        "my mum had a stroke in 2019": (("acute", "none"), (), 2),
    }
    described = [c.describe() for c in result.conflicts]
    assert re.fullmatch(r"risk labels #\d+: labelled crisis; training data has none", described[0])
    assert re.fullmatch(r"risk labels #\d+, #\d+: labelled acute, none", described[1])
    assert not any("stroke" in line or "killing" in line for line in described)
    exported = " ".join(result.files.values())
    assert "stroke" not in exported and "killing" not in exported


def test_nothing_labelled_writes_nothing_and_removes_an_old_export(
    session, training, tmp_path
) -> None:
    result = export_risk_annotations(session, training)
    shared.clears_old_export(result, write_risk_export, tmp_path / "out", "crisis.yml")


def test_a_broken_training_file_is_refused(session, labelled, tmp_path) -> None:
    broken = {"acute.yml": "label: danger\ncategories: {}\n"}
    export = partial(export_risk_annotations, session)
    shared.refuses_training(export, tmp_path / "safety", broken, "'label' must be one of")


def test_export_command_writes_the_files_and_reports_without_text(
    labelled, training, make_session, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    out = tmp_path / "var" / "annotations"
    (out / "safety").mkdir(parents=True)
    code = shared.run_export(*shared.outputs(out), "--safety-training-dir", str(training))
    assert code == 0
    printed = capsys.readouterr().out
    for label in ("acute", "crisis", "none"):
        assert f"wrote {out / 'safety' / label}.yml" in printed
    assert "risk labels exported: 5" in printed and "risk duplicates: 2" in printed
    assert "risk conflicts: 2" in printed
    assert re.search(r"risk labels #\d+: labelled crisis; training data has none", printed)
    for word in ("stroke", "killing", "elephant", "dog", "ending"):
        assert word not in printed
    assert [e.label for e in load_safety_examples(out / "safety")].count("crisis") == 2
    details = shared.export_audit(make_session)
    counts = [details["risk_exported"], details["risk_duplicates"], details["risk_conflicts"]]
    assert counts == [5, 2, 2]


def test_export_command_will_not_write_over_the_safety_data(
    labelled, training, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", labelled)
    args = ["--out", str(tmp_path / "nlu.yml"), "--answers-out", str(tmp_path / "answers")]
    args += ["--safety-out", str(training), "--safety-training-dir", str(training)]
    printed = shared.refused_export(capsys, training, *args)
    assert "--safety-out must not be" in printed
    assert not (tmp_path / "nlu.yml").exists()
