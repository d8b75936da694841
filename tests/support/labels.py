"""Staff labels in tests: label stored messages, export them with the CLI, check what is kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from bot.conversations.privacy import erase_conversation, purge_older_than
from bot.conversations.review import ConversationNotFoundError
from bot.core.settings import get_settings
from bot.db.staff import AuditEntry
from bot.rasa.events import load_events
from tests.support.conversations import Script, visitor_event, write_conversation

OTHER = "conv-other"  # the second stored conversation of the label tests
Label = Callable[..., object]  # (session, conversation_id, event_id, *label): a review.annotate_*


def write_both(url: str, conversation_id: str, events: Callable[[], list]) -> str:
    """Two stored conversations of the same messages, `conversation_id` and conv-other."""
    write_conversation(url, conversation_id, events())
    write_conversation(url, OTHER, events())
    return conversation_id


def store_messages(url: str, session: Session, conversation_id: str, texts: list[str]) -> list[int]:
    """Store a conversation of one visitor message per text; their event ids, in order."""
    script = Script().session_start()
    for text in texts:
        script.user(text, "inform", 0.7).listen()
    write_conversation(url, conversation_id, script.events)
    return [e.id for e in load_events(session, conversation_id) if e.type_name == "user"]


def label_all(
    url: str, session: Session, conversations: dict[str, Sequence[tuple]], annotate: Label
) -> None:
    """Store each conversation, a visitor message per label (text first); `annotate` each."""
    for conversation_id, labels in conversations.items():
        event_ids = store_messages(url, session, conversation_id, [text for text, *_ in labels])
        for event_id, (_, *label) in zip(event_ids, labels, strict=True):
            annotate(session, conversation_id, event_id, *label)
        session.commit()


def stored(session: Session, model: type) -> list[Any]:
    """Every stored row of a label table, oldest first."""
    return list(session.scalars(select(model).order_by(model.id)))


def label_both(
    session: Session, conversation_id: str, labels: Sequence[tuple], annotate: Label
) -> None:
    """Label these stored messages (each label's text first) in `conversation_id` and conv-other."""
    for labelled in (conversation_id, OTHER):
        for text, *label in labels:
            annotate(session, labelled, visitor_event(session, labelled, text), *label)
    session.commit()


def refuses_other_messages(
    session: Session, conversation_id: str, text: str, label: Callable[[int], object]
) -> None:
    """`label(event_id)` refuses a bot message, conv-other's message `text` and a missing event."""
    bot_event = next(e.id for e in load_events(session, conversation_id) if e.type_name == "bot")
    with pytest.raises(ValueError, match="only visitor messages"):
        label(bot_event)
    for event_id in (visitor_event(session, OTHER, text), 10_000_000):
        with pytest.raises(ConversationNotFoundError):
            label(event_id)


def refuses(session: Session, row: object) -> None:
    """The database refuses `row` (a constraint fails when it is flushed)."""
    session.add(row)
    with pytest.raises(IntegrityError):
        session.flush()


def audit_rows(session: Session) -> list[tuple[Any, ...]]:
    """Every audit entry, oldest first: (actor, action, target type, target id, details)."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    return [(e.actor, e.action, e.target_type, e.target_id, e.details) for e in entries]


def erase_keeps_other(session: Session, conversation_id: str, model: type) -> int:
    """Erase a conversation: conv-other's labels stay; how many of its labels went."""
    report = erase_conversation(session, conversation_id, actor="staff:ada")
    session.commit()
    assert {row.conversation_id for row in stored(session, model)} == {OTHER}
    return report.counts[model.__tablename__]


def purge_all(session: Session, model: type) -> int:
    """A dry run, then the retention purge of all (idle) conversations; how many labels went."""
    later = datetime.now(timezone.utc) + timedelta(days=3650)  # every conversation is idle
    report = purge_older_than(session, days=30, now=later, actor="cli:retention", dry_run=True)
    assert report.counts[model.__tablename__] == len(stored(session, model))  # none deleted
    report = purge_older_than(session, days=30, now=later, actor="cli:retention")
    session.commit()
    assert stored(session, model) == []
    return report.counts[model.__tablename__]


def write_training(folder: Path, documents: dict[str, dict[str, Any]], header: str = "") -> Path:
    """Training files as in data/: `<name>.yml` per document, after `header` (name filled in)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        heading = header.format(name) + "\n" if header else ""
        text = heading + yaml.safe_dump(document, allow_unicode=True)
        (folder / f"{name}.yml").write_text(text, encoding="utf-8")
    return folder


def double_quoted(lines: list[str]) -> bool:
    """Whether there are example lines and each is a double-quoted list item: `    - "..."`."""
    return bool(lines) and all(re.fullmatch(r'    - ".*"', line) for line in lines)


def outputs(folder: Path) -> list[str]:
    """The export command's options for writing all under `folder`: nlu.yml, answers/, safety/."""
    answers, safety = str(folder / "answers"), str(folder / "safety")
    return ["--out", str(folder / "nlu.yml"), "--answers-out", answers, "--safety-out", safety]


def run_export(*args: str) -> int:
    """`python -m bot export-annotations ARGS` (DATABASE_URL set by the test)."""
    get_settings.cache_clear()
    try:
        return main(["export-annotations", *args])
    finally:
        get_settings.cache_clear()


def refused_export(capsys: pytest.CaptureFixture[str], training: Path, *args: str) -> str:
    """Run the export expecting a refusal that leaves `training` untouched; what it printed."""
    before = file_texts(training)
    assert run_export(*args) == 2
    assert file_texts(training) == before
    return capsys.readouterr().err


def export_audit(make_session: sessionmaker) -> dict[str, Any]:
    """The details of the newest audit entry, which must be the export command's."""
    with make_session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.actor, entry.action) == ("cli:export-annotations", "export_annotations")
    return entry.details


def file_texts(folder: Path) -> dict[str, str]:
    """The files of a folder by name, with their text."""
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()}


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """A new folder holding these files (name -> text)."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def refuses_training(
    export: Callable[[Path], object], folder: Path, files: dict[str, str], match: str
) -> None:
    """`export(folder)` refuses training data of these files with a ValueError matching `match`."""
    write_folder(folder, files)
    with pytest.raises(ValueError, match=match):
        export(folder)


def clears_old_export(
    result: Any, write: Callable[[Any, Path], list[Path]], out: Path, old: str
) -> None:
    """An empty export writes nothing in `out` and removes an earlier export's `old` file there."""
    write_folder(out, {old: "an earlier export\n", "notes.txt": "kept"})
    assert (result.files, result.exported, result.duplicates, result.conflicts) == ({}, 0, 0, [])
    assert write(result, out) == []
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]
