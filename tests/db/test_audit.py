"""The hash-chained audit log: it verifies, detects tampering, and stays valid under concurrency."""

import hashlib
import itertools
import json
import threading
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.audit import GENESIS_HASH, AuditReport, parse_anchor, record, tail, verify
from bot.db.staff import AuditEntry


def fill(session: Session, count: int = 5) -> list[AuditEntry]:
    """`count` committed entries."""
    entries = [
        record(
            session,
            actor="user:1",
            action="view_transcript",
            target_type="conversation",
            target_id=f"conv-{n}",
            details={"events": n},
        )
        for n in range(1, count + 1)
    ]
    session.commit()
    return entries


def tamper(engine: Engine, sql: str, **params: object) -> None:
    """Change audit_log the way someone with database access would: drop the guard, then write."""
    verb = sql.split()[0].lower()
    trigger = f"audit_log_no_{verb}"
    on_table = " ON audit_log" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}{on_table}")
        connection.execute(text(sql), params)


def fresh_report(make_session: sessionmaker, **options: object) -> AuditReport:
    """verify() in a new session, so nothing cached hides the tampering."""
    with make_session() as session:
        return verify(session, **options)


def test_entries_chain_and_verify(session: Session) -> None:
    entries = fill(session)
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    report = verify(session)
    assert report == AuditReport(ok=True, checked=5, problems=[], head=(5, entries[-1].hash))


def test_the_hash_covers_a_canonical_json(session: Session) -> None:
    entry = record(
        session,
        actor="cli:root",
        action="user_created",
        target_type="staff_user",
        target_id=7,
        details={"role": "admin", "b": 1},
    )
    session.commit()
    at = entry.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    body = (
        '{"action":"user_created","actor":"cli:root","at":"' + at + '",'
        '"details":{"b":1,"role":"admin"},"prev_hash":"' + GENESIS_HASH + '",'
        '"seq":1,"target_id":"7","target_type":"staff_user"}'
    )
    assert entry.hash == hashlib.sha256(body.encode()).hexdigest()


def test_an_empty_log_is_intact(session: Session) -> None:
    assert verify(session) == AuditReport(ok=True, checked=0, problems=[], head=None)


def test_triggers_refuse_update_and_delete(session: Session, engine: Engine) -> None:
    fill(session, 2)
    for sql in ("UPDATE audit_log SET actor = 'someone' WHERE seq = 1", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(sql))
    assert [entry.actor for entry in tail(session)] == ["user:1", "user:1"]
    assert verify(session).ok


@pytest.mark.parametrize(
    "change",
    [
        "actor = 'user:2'",
        "details = '{\"events\": 99}'",
        "target_id = NULL",
    ],
)
def test_a_modified_entry_is_detected(
    session: Session, engine: Engine, make_session: sessionmaker, change: str
) -> None:
    fill(session)
    tamper(engine, f"UPDATE audit_log SET {change} WHERE seq = 2")
    report = fresh_report(make_session)
    assert not report.ok and report.checked == 5
    assert report.problems == ["seq 2: contents do not match its hash (entry modified)"]


def test_a_modified_timestamp_is_detected(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    entries = fill(session)
    earlier = entries[3].at.replace(tzinfo=None) - timedelta(days=1)
    tamper(engine, "UPDATE audit_log SET at = :at WHERE seq = 4", at=earlier)
    report = fresh_report(make_session)
    assert report.problems == ["seq 4: contents do not match its hash (entry modified)"]


def test_a_deleted_middle_entry_is_detected(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    fill(session)
    tamper(engine, "DELETE FROM audit_log WHERE seq = 3")
    report = fresh_report(make_session)
    assert not report.ok and report.checked == 4
    assert report.problems == [
        "seq 3: missing (entries deleted before seq 4)",
        "seq 4: does not link to seq 2 (entry deleted, inserted or reordered)",
    ]


def test_a_deleted_first_entry_is_detected(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    fill(session, 3)
    tamper(engine, "DELETE FROM audit_log WHERE seq = 1")
    problems = fresh_report(make_session).problems
    assert problems[0] == "seq 1: missing (entries deleted before seq 2)"
    assert "seq 2: does not link to the start of the log" in problems[1]


def test_reordered_entries_are_detected(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    fill(session, 4)
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        tamper(engine, "UPDATE audit_log SET seq = :new WHERE seq = :old", old=old, new=new)
    problems = fresh_report(make_session).problems
    assert "seq 2: contents do not match its hash (entry modified)" in problems
    assert "seq 2: does not link to seq 1 (entry deleted, inserted or reordered)" in problems
    assert "seq 3: written before seq 2 (entries reordered)" in problems


def test_deleting_the_newest_entries_needs_the_anchor(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    fill(session)
    head = fresh_report(make_session).head
    assert head is not None and parse_anchor(f"{head[0]}:{head[1]}") == head
    tamper(engine, "DELETE FROM audit_log WHERE seq >= 4")
    assert fresh_report(make_session).ok, "a shortened chain is still a valid chain"
    report = fresh_report(make_session, anchor=head)
    assert not report.ok
    assert report.problems == ["seq 5: the anchored entry is missing (newest entries deleted)"]


def test_a_rewritten_log_fails_the_anchor(
    session: Session, engine: Engine, make_session: sessionmaker
) -> None:
    fill(session, 2)
    head = fresh_report(make_session).head
    tamper(engine, "DELETE FROM audit_log")
    with make_session() as other:
        fill(other, 2)
    assert fresh_report(make_session).ok
    assert fresh_report(make_session, anchor=head).problems == [
        "seq 2: hash differs from the anchor (log rewritten)"
    ]


@pytest.mark.parametrize("bad", ["12", "x:" + "a" * 64, "3:" + "g" * 64, "3:abc"])
def test_bad_anchors_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="SEQ:HASH"):
        parse_anchor(bad)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"details": {"text": "I have chest pain and my email is x@y.z " * 5}}, "too long"),
        ({"details": {"lead": {"email": "x@y.z"}}}, "scalar"),
        ({"details": {"Bad Key": 1}}, "snake_case"),
        ({"actor": ""}, "actor"),
        ({"action": "x" * 65}, "action"),
    ],
)
def test_record_refuses_content_and_bad_labels(
    session: Session, fields: dict, message: str
) -> None:
    arguments = {"actor": "user:1", "action": "annotate", "target_type": "conversation"}
    with pytest.raises(ValueError, match=message):
        record(session, **{**arguments, **fields})
    assert verify(session).checked == 0


def test_a_rolled_back_entry_leaves_no_gap(session: Session) -> None:
    fill(session, 1)
    record(session, actor="user:1", action="logout", target_type="staff_user", target_id=1)
    session.rollback()
    fill(session, 1)
    report = verify(session)
    assert report.ok and report.checked == 2


def test_concurrent_writers_keep_a_valid_chain(make_session: sessionmaker) -> None:
    threads, per_thread = 4, 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        """Append entries one transaction at a time."""
        try:
            start.wait()
            for n in range(per_thread):
                with make_session() as session:
                    record(
                        session,
                        actor=f"user:{worker}",
                        action="view_lead",
                        target_type="lead",
                        target_id=n,
                        details={"worker": worker},
                    )
                    session.commit()
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with make_session() as session:
        report = verify(session)
        seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert report.ok, report.problems
    assert report.checked == threads * per_thread
    assert seqs == list(range(1, threads * per_thread + 1))
    with make_session() as session:
        details = json.dumps([entry.details for entry in tail(session, threads * per_thread)])
    assert all(f'"worker": {n}' in details for n in range(threads))
