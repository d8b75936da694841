"""The append-only, hash-chained audit log of staff actions (ids and counts only, never content).

Each entry's `hash` is the sha256 of a canonical JSON of its fields and the previous entry's hash,
and `seq` numbers the entries 1, 2, 3... without gaps. `verify` walks the log by `seq` and
detects: a modified entry (its hash no longer matches its fields), a deleted or inserted entry in
the middle (a `seq` gap or a `prev_hash` that does not link to the entry before), and reordered
entries (`seq` and `hash` are bound together, and row ids must rise with `seq`).

What the chain alone cannot show: removal of the newest entries (the shorter log is still a valid
chain) and a wholesale rewrite by someone who recomputes every hash. Against both, keep the head
that `python -m bot audit verify` prints (seq and hash) somewhere outside the database and pass it
back with `--anchor SEQ:HASH`: verification then fails if that entry is gone or changed.
The database triggers (migration 0002) refuse UPDATE and DELETE on `audit_log`.

Writers are serialised so two transactions never take the same `seq`: on PostgreSQL by a
transaction-scoped advisory lock (at the default READ COMMITTED isolation), on SQLite by the
BEGIN IMMEDIATE of engines made by `bot.db.session.make_engine`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.db.models import utcnow
from bot.db.staff import AuditEntry

GENESIS_HASH = "0" * 64
ADVISORY_LOCK_KEY = 0x6175_6469_7400  # "audit": one writer at a time on PostgreSQL
DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DETAIL_TEXT_MAX = 120
SCALARS = (str, int, float, bool, type(None))
HASHED_FIELDS = ("seq", "at", "actor", "action", "target_type", "target_id", "details")


@dataclass
class AuditReport:
    """The outcome of `verify`: whether the log is intact, entries checked, problems found."""

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    head: tuple[int, str] | None = None


def timestamp(moment: datetime) -> str:
    """An ISO 8601 UTC timestamp with microseconds, as hashed."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def canonical(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The canonical JSON (sorted keys, no spaces, ASCII) that an entry's hash covers."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    body["at"] = timestamp(body["at"])
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """The sha256 hex digest chaining an entry to the one before."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


def check_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details as stored: identifier keys, scalars or lists of scalars, short strings only."""
    clean = json.loads(json.dumps(dict(details or {})))
    for key, value in clean.items():
        if not DETAIL_KEY.fullmatch(key):
            raise ValueError(f"audit detail keys are short snake_case identifiers, not {key!r}")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, SCALARS):
                raise ValueError(f"audit detail {key!r} must be a scalar or a list of scalars")
            if isinstance(item, str) and len(item) > DETAIL_TEXT_MAX:
                raise ValueError(f"audit detail {key!r} is too long: record ids and counts only")
    return clean


def serialize_writers(session: Session) -> None:
    """Hold the audit writer lock until the transaction ends (SQLite: BEGIN IMMEDIATE does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def last_entry(session: Session) -> AuditEntry | None:
    """The entry with the highest seq, or None for an empty log."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; it is kept when the caller commits."""
    fields: dict[str, Any] = {
        "actor": check_label("actor", actor, 64),
        "action": check_label("action", action, 64),
        "target_type": check_label("target_type", target_type, 32),
        "target_id": None if target_id is None else check_label("target_id", str(target_id), 255),
        "details": check_details(details),
    }
    serialize_writers(session)
    fields["at"] = utcnow()
    last = last_entry(session)
    prev_hash = last.hash if last else GENESIS_HASH
    fields["seq"] = last.seq + 1 if last else 1
    entry = AuditEntry(**fields, prev_hash=prev_hash, hash=entry_hash(fields, prev_hash))
    session.add(entry)
    session.flush()
    return entry


def check_label(name: str, value: str, limit: int) -> str:
    """`value` if it is 1..limit printable characters, else ValueError."""
    if not isinstance(value, str) or not 0 < len(value) <= limit or not value.isprintable():
        raise ValueError(f"audit {name} must be 1-{limit} printable characters")
    return value


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> AuditReport:
    """Walk the log by seq and report modified, missing, inserted or reordered entries."""
    columns = [AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash]
    columns += [getattr(AuditEntry, name) for name in HASHED_FIELDS]
    rows = session.execute(select(*columns).order_by(AuditEntry.seq)).yield_per(500)
    report = AuditReport(ok=True, checked=0)
    report.problems.extend(walk(rows, report))
    if anchor is not None:
        report.problems.extend(check_anchor(session, anchor))
    report.ok = not report.problems
    return report


def walk(rows: Iterable[Any], report: AuditReport) -> Iterable[str]:
    """Problems found entry by entry; counts entries and sets the head on `report`."""
    previous = None
    for row in rows:
        report.checked += 1
        yield from link_problems(previous, row)
        if entry_hash(row._mapping, row.prev_hash) != row.hash:
            yield f"seq {row.seq}: contents do not match its hash (entry modified)"
        previous = row
        report.head = (row.seq, row.hash)


def link_problems(previous: Any, row: Any) -> Iterable[str]:
    """Problems in how `row` follows `previous` (None: `row` is the first entry)."""
    expected_seq = previous.seq + 1 if previous else 1
    expected_prev = previous.hash if previous else GENESIS_HASH
    if row.seq > expected_seq:
        first, last = expected_seq, row.seq - 1
        missing = f"seq {first}" if first == last else f"seq {first}-{last}"
        yield f"{missing}: missing (entries deleted before seq {row.seq})"
    if row.prev_hash != expected_prev:
        after = f"seq {previous.seq}" if previous else "the start of the log"
        yield f"seq {row.seq}: does not link to {after} (entry deleted, inserted or reordered)"
    if previous and row.id <= previous.id:
        yield f"seq {row.seq}: written before seq {previous.seq} (entries reordered)"


def check_anchor(session: Session, anchor: tuple[int, str]) -> list[str]:
    """Problems if the anchored entry (seq, hash) noted earlier is gone or different."""
    seq, expected = anchor
    found = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    if found is None:
        return [f"seq {seq}: the anchored entry is missing (newest entries deleted)"]
    if found != expected:
        return [f"seq {seq}: hash differs from the anchor (log rewritten)"]
    return []


def parse_anchor(value: str) -> tuple[int, str]:
    """'SEQ:HASH' -> (seq, hash); ValueError otherwise."""
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("the anchor must look like SEQ:HASH (a number, ':', 64 hex digits)")
    return int(seq), digest


def tail(session: Session, last: int = 20) -> list[AuditEntry]:
    """The newest `last` entries, oldest first."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(last))
    return list(reversed(list(entries)))
