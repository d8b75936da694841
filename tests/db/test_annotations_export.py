"""Annotations exported as Rasa NLU YAML: escaping, duplicates, conflicts, `rasa data validate`."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.conversations.annotations import ExportResult, export_annotations
from bot.conversations.review import annotate
from bot.core.paths import DATA, ROOT
from bot.core.settings import get_settings
from bot.db.staff import AuditEntry, StaffUser
from bot.rasa.events import load_events
from tests.support.conversations import Script, write_conversation

RASA = str(Path(sys.executable).with_name("rasa"))
TRAINING = DATA / "nlu"
# (text, predicted intent, corrected intent) per visitor message of conversation "first".
FIRST = [
    ("how much is the intro call, really?", "ask_cost", "ask_cost"),
    ("is it free\nor do I\r\npay?", "ask_cost", "ask_cost"),
    ('she said: "it\'s [benign](maybe)" # not sure - {ok}?', "inform", "medical_advice"),
    ("- what does a navigator do all day", "ask_advocacy", "ask_navigators"),
    ("¿Puedo hablar con alguien? naïve café ✓", "other_language", "request_human"),
    ("hello", "greet", "greet"),  # in data/nlu as greet: a duplicate
    ("  HELLO ", "greet", "greet"),  # the same once normalised: a duplicate too
    ("hi there", "greet", "thank"),  # in data/nlu as greet: a conflict
    ("can my sister be on the call too", "ask_call_details", "ask_call_details"),
    ("what will we talk about on the call, exactly", "ask_call_details", "ask_call_details"),
]
# Conversation "second": one text annotated differently, one the same as in "first".
SECOND = [
    ("Can my sister be on the call too", "book_call", "book_call"),
    ("what will we talk about on the call, exactly", "ask_call_details", "ask_call_details"),
]
EXPORTED = {
    "ask_cost": ["how much is the intro call, really?", "is it free or do I pay?"],
    "medical_advice": ['she said: "it\'s (benign)(maybe)" # not sure - {ok}?'],
    "ask_navigators": ["- what does a navigator do all day"],
    "request_human": ["¿Puedo hablar con alguien? naïve café ✓"],
    "ask_call_details": ["what will we talk about on the call, exactly"],
}


def write_messages(url: str, conversation_id: str, messages: list[tuple[str, str, str]]) -> None:
    """A conversation of visitor messages, each followed by the bot listening again."""
    script = Script().session_start()
    for text, predicted, _ in messages:
        script.user(text, predicted, 0.7).listen()
    write_conversation(url, conversation_id, script.events)


def annotate_all(session: Session, user: StaffUser, conversation_id: str, messages) -> None:
    """Annotate each visitor message of the conversation with its corrected intent."""
    users = [e for e in load_events(session, conversation_id) if e.type_name == "user"]
    for event, (_, _, corrected) in zip(users, messages, strict=True):
        annotate(session, conversation_id, event.id, corrected, user)
    session.commit()


@pytest.fixture
def annotated(migrated_url: str, session: Session, user: StaffUser) -> str:
    """Two conversations whose visitor messages staff have annotated."""
    write_messages(migrated_url, "first", FIRST)
    write_messages(migrated_url, "second", SECOND)
    annotate_all(session, user, "first", FIRST)
    annotate_all(session, user, "second", SECOND)
    return migrated_url


def examples_of(result: ExportResult) -> dict[str, list[str]]:
    """The exported examples by intent, as Rasa's own reader reads them."""
    found: dict[str, list[str]] = {}
    for message in RasaYAMLReader().reads(result.yaml_text).intent_examples:
        found.setdefault(message.get("intent"), []).append(message.get("text"))
    return found


def test_export_reads_back_as_the_annotated_examples(session, annotated) -> None:
    result = export_annotations(session, TRAINING)
    assert examples_of(result) == EXPORTED
    assert result.exported == sum(len(texts) for texts in EXPORTED.values())


def test_export_is_nlu_yaml_with_literal_example_blocks(session, annotated) -> None:
    result = export_annotations(session, TRAINING)
    document = yaml.safe_load(result.yaml_text)
    assert document["version"] == "3.1" and 'version: "3.1"' in result.yaml_text
    assert [item["intent"] for item in document["nlu"]] == sorted(EXPORTED)
    assert result.yaml_text.count("examples: |") == len(EXPORTED)
    assert "[benign]" not in result.yaml_text  # would read as entity markup


def test_duplicates_of_training_data_and_of_each_other_are_counted(session, annotated) -> None:
    result = export_annotations(session, TRAINING)
    # "hello" and "  HELLO " are in data/nlu; the second "what will we talk about..." repeats.
    assert result.duplicates == 3
    assert "hello" not in examples_of(result).get("greet", [])


def test_conflicts_are_reported_with_intents_and_not_exported(session, annotated) -> None:
    result = export_annotations(session, TRAINING)
    conflicts = {c.text: (c.labelled, c.training, len(c.label_ids)) for c in result.conflicts}
    assert conflicts == {
        "hi there": (("thank",), ("greet",), 1),
        "can my sister be on the call too": (("ask_call_details", "book_call"), (), 2),
    }
    exported = [text for texts in examples_of(result).values() for text in texts]
    assert not any("sister" in text or text == "hi there" for text in exported)
    described = " ".join(c.describe() for c in result.conflicts)
    assert "training data has greet" in described and "sister" not in described


def test_nothing_annotated_exports_an_empty_nlu_list(session) -> None:
    result = export_annotations(session, TRAINING)
    assert (result.exported, result.duplicates, result.conflicts) == (0, 0, [])
    assert yaml.safe_load(result.yaml_text) == {"version": "3.1", "nlu": []}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_export_merged_with_the_training_data_passes_rasa_validate(
    session, annotated, tmp_path
) -> None:
    exported = tmp_path / "nlu-annotations.yml"
    exported.write_text(export_annotations(session, TRAINING).yaml_text, encoding="utf-8")
    result = subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--data",
            "data/",
            str(exported),
            "--domain",
            "domain.yml",
            "--fail-on-warnings",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_export_command_writes_the_file_and_prints_the_report(
    annotated, make_session, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", annotated)
    get_settings.cache_clear()
    out = tmp_path / "out" / "annotations.yml"
    answers = [
        "--answers-out",
        str(tmp_path / "out" / "answers"),
        "--answers-training-dir",
        str(tmp_path / "no-answer-data"),
        "--safety-out",
        str(tmp_path / "out" / "safety"),
    ]
    try:
        assert main(["export-annotations", "--out", str(out), *answers]) == 0
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "exported: 6" in printed and "duplicates: 3" in printed and "conflicts: 2" in printed
    assert "annotated thank; training data has greet" in printed and "sister" not in printed
    assert "ask_navigators" in out.read_text(encoding="utf-8")
    with make_session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.actor, entry.action) == ("cli:export-annotations", "export_annotations")
    assert entry.details == {
        "exported": 6,
        "duplicates": 3,
        "conflicts": 2,
        "answers_exported": 0,
        "answers_duplicates": 0,
        "answers_conflicts": 0,
        "risk_exported": 0,
        "risk_duplicates": 0,
        "risk_conflicts": 0,
    }
    assert "answer labels exported: 0" in printed and not (tmp_path / "out" / "answers").exists()
    assert "risk labels exported: 0" in printed and not (tmp_path / "out" / "safety").exists()
