"""Erasure of one conversation and the retention purge: rows are deleted, not flagged."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.conversations.privacy import erase_conversation, purge_older_than
from bot.core.settings import get_settings
from bot.db.models import Booking, Lead
from bot.db.staff import AuditEntry
from tests.support.conversations import (
    booked_conversation,
    follow_up,
    greeting_conversation,
    lead_conversation,
    write_conversation,
)
from tests.support.visitor_data import (
    NAME,
    SUMMARY,
    add_lead,
    add_navigator,
    add_staff_rows,
    email_of,
    rows_of,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)


def audit_entries(session: Session) -> list[AuditEntry]:
    """The audit log, oldest first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


@pytest.fixture
def two_visitors(migrated_url: str, session: Session) -> dict[str, dict[str, int]]:
    """Two booked visitors with every kind of row; their row counts before any deletion."""
    write_conversation(migrated_url, "7001001", booked_conversation())
    write_conversation(migrated_url, "7001002", lead_conversation())
    navigator_id = add_navigator(session)
    for conversation_id in ("7001001", "7001002"):
        add_lead(session, conversation_id, navigator_id=navigator_id)
        add_staff_rows(session, conversation_id)
    session.commit()
    return {c: rows_of(session, c) for c in ("7001001", "7001002")}


def test_erasure_deletes_every_row_of_the_conversation(session, two_visitors) -> None:
    before = two_visitors["7001001"]
    assert all(before.values()), before
    report = erase_conversation(session, "7001001", actor="staff:ada")
    session.commit()
    assert set(rows_of(session, "7001001").values()) == {0}
    assert report.counts == before and report.total == sum(before.values())


def test_erasure_leaves_other_conversations_alone(session, two_visitors) -> None:
    erase_conversation(session, "7001001", actor="visitor")
    session.commit()
    assert rows_of(session, "7001002") == two_visitors["7001002"]


def test_erasure_is_audited_with_counts_and_no_text(session, two_visitors) -> None:
    report = erase_conversation(session, "7001001", actor="visitor")
    session.commit()
    (entry,) = audit_entries(session)
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        "visitor",
        "erase_conversation",
        "conversation",
        "7001001",
    )
    assert entry.details == report.counts
    assert all(isinstance(value, int) for value in entry.details.values())
    stored = json.dumps(entry.details)
    for personal in (NAME, SUMMARY, email_of("7001001"), "cancer"):
        assert personal not in stored


def test_erasure_happens_in_one_transaction(session, two_visitors) -> None:
    with pytest.raises(ValueError):
        erase_conversation(session, "7001001", actor="")  # the audit entry is refused
    session.rollback()
    assert rows_of(session, "7001001") == two_visitors["7001001"]
    assert audit_entries(session) == []


def test_erasing_an_unknown_conversation_deletes_nothing(session, two_visitors) -> None:
    report = erase_conversation(session, "nobody", actor="staff:ada")
    session.commit()
    assert report.total == 0
    assert rows_of(session, "7001001") == two_visitors["7001001"]
    assert audit_entries(session)[0].details == report.counts


@pytest.fixture
def aged(migrated_url: str, session: Session) -> dict[str, int]:
    """Conversations and leads of different ages around a 365-day retention at NOW."""
    write_conversation(migrated_url, "old", lead_conversation(start=OLD))
    write_conversation(migrated_url, "old-booked", booked_conversation(start=OLD))
    write_conversation(migrated_url, "old-came-back", greeting_conversation(start=OLD))
    write_conversation(migrated_url, "old-came-back", follow_up(start=RECENT))
    write_conversation(migrated_url, "recent", lead_conversation(start=RECENT))
    navigator_id = add_navigator(session)
    leads = {
        "old": add_lead(session, "old", navigator_id=navigator_id, created_at=OLD, booked=False),
        "old-booked": add_lead(session, "old-booked", navigator_id=navigator_id, created_at=OLD),
        "old-came-back": add_lead(
            session, "old-came-back", navigator_id=navigator_id, created_at=OLD, booked=False
        ),
        "recent": add_lead(
            session, "recent", navigator_id=navigator_id, created_at=RECENT, booked=False
        ),
    }
    for conversation_id in leads:
        add_staff_rows(session, conversation_id)
    session.commit()
    return {name: lead.id for name, lead in leads.items()}


def test_retention_deletes_old_conversations_and_unconverted_old_leads(session, aged) -> None:
    report = purge_older_than(session, days=365, now=NOW, actor="cli:retention")
    session.commit()
    assert (report.conversations, report.leads) == (2, 2)
    assert set(rows_of(session, "old").values()) == {0}
    old_booked = rows_of(session, "old-booked")
    assert old_booked["events"] == 0 and old_booked["conversation_notes"] == 0
    assert (old_booked["leads"], old_booked["bookings"], old_booked["outbox_messages"]) == (1, 1, 1)
    came_back = rows_of(session, "old-came-back")
    assert came_back["events"] > 0 and came_back["conversation_tags"] == 1
    assert came_back["leads"] == 0  # older than the cutoff and never booked
    recent = rows_of(session, "recent")
    assert recent["events"] > 0 and recent["leads"] == 1 and recent["callback_requests"] == 1
    kept = set(session.scalars(select(Lead.id)))
    assert kept == {aged["old-booked"], aged["recent"]}
    assert session.scalar(select(Booking.lead_id)) == aged["old-booked"]


def test_retention_is_audited_with_counts(session, aged) -> None:
    report = purge_older_than(session, days=365, now=NOW, actor="cli:retention")
    session.commit()
    (entry,) = audit_entries(session)
    assert (entry.actor, entry.action, entry.target_type) == (
        "cli:retention",
        "retention_purge",
        "retention",
    )
    assert entry.details == {"days": 365, "conversations": 2, **report.counts}
    assert report.counts["leads"] == 2 and report.counts["bookings"] == 0


def test_dry_run_counts_what_a_purge_would_delete_and_deletes_nothing(session, aged) -> None:
    names = ("old", "old-booked", "old-came-back", "recent")
    before = {name: rows_of(session, name) for name in names}
    dry = purge_older_than(session, days=365, now=NOW, actor="cli:retention", dry_run=True)
    session.commit()
    assert {name: rows_of(session, name) for name in names} == before
    assert audit_entries(session) == []
    real = purge_older_than(session, days=365, now=NOW, actor="cli:retention")
    assert dry.dry_run and not real.dry_run
    assert (dry.conversations, dry.leads, dry.counts) == (2, 2, real.counts)


def test_a_longer_retention_keeps_everything(session, aged) -> None:
    report = purge_older_than(session, days=500, now=NOW, actor="cli:retention")
    assert (report.conversations, report.leads, report.total) == (0, 0, 0)
    with pytest.raises(ValueError):
        purge_older_than(session, days=0, now=NOW, actor="cli:retention")


@pytest.fixture
def database_env(migrated_url: str, monkeypatch: pytest.MonkeyPatch):
    """DATABASE_URL pointing at the test database for the command line."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def events_of(make_session, conversation_id: str) -> int:
    """Stored events of a conversation, read in a short transaction of its own."""
    with make_session() as session:
        return rows_of(session, conversation_id)["events"]


def test_retention_command_prints_counts(database_env, make_session, capsys) -> None:
    now = datetime.now(timezone.utc)
    write_conversation(database_env, "stale", lead_conversation(start=now - timedelta(days=40)))
    write_conversation(database_env, "fresh", lead_conversation(start=now - timedelta(days=1)))
    assert main(["retention", "purge", "--days", "30", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing deleted" in out and "would delete 1 conversations" in out
    assert events_of(make_session, "stale") > 0
    assert main(["retention", "purge", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 conversations" in out and "events: " in out
    assert events_of(make_session, "stale") == 0 and events_of(make_session, "fresh") > 0
    with make_session() as session:
        (entry,) = audit_entries(session)
    assert (entry.actor, entry.details["days"]) == ("cli:retention", 30)


def test_retention_command_defaults_to_the_configured_days(database_env, capsys, monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "90")
    get_settings.cache_clear()
    assert main(["retention", "purge", "--dry-run"]) == 0
    assert "retention 90 days" in capsys.readouterr().out
