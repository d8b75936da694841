"""Availability loaded from the default file and edited by command, on SQLite and PostgreSQL."""

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.booking import availability
from bot.cli import main as cli
from bot.db.migrate import upgrade
from bot.db.session import session_scope

MONDAY_NOON_UTC = datetime(2030, 1, 7, 12, 0, tzinfo=timezone.utc)  # 07:00 in New York


@pytest.fixture
def seeded(database_url: str) -> str:
    upgrade(database_url)
    with session_scope(database_url) as session:
        assert availability.seed_if_empty(session) == 2
        assert availability.seed_if_empty(session) == 0
    return database_url


def test_default_schedule_offers_slots_at_once(seeded: str) -> None:
    with session_scope(seeded) as session:
        slots = availability.offer(session, MONDAY_NOON_UTC)
    # notice is 2 h: the first free start is 09:00 New York = 14:00 UTC, every 15 minutes
    assert [s.start for s in slots] == [
        datetime(2030, 1, 7, 14, m, tzinfo=timezone.utc) for m in (0, 15, 30, 45)
    ] + [datetime(2030, 1, 7, 15, 0, tzinfo=timezone.utc)]


def test_closed_day_and_time_off_move_the_offer(seeded: str) -> None:
    with session_scope(seeded) as session:
        availability.set_override(
            session, "intake-east@pilotrock.example", date(2030, 1, 7), "closed"
        )
        start = datetime(2030, 1, 7, 0, 0, tzinfo=timezone.utc)
        availability.add_time_off(
            session,
            "intake-west@pilotrock.example",
            start,
            start + timedelta(hours=30),
            "conference",
        )
    with session_scope(seeded) as session:
        first = availability.offer(session, MONDAY_NOON_UTC, count=1)[0]
    # both closed on Monday: Tuesday 09:00 New York = 14:00 UTC
    assert first.start == datetime(2030, 1, 8, 14, 0, tzinfo=timezone.utc)


def test_bad_hours_are_refused(seeded: str) -> None:
    with session_scope(seeded) as session, pytest.raises(ValueError, match="09:00-12:30"):
        availability.set_override(
            session, "intake-east@pilotrock.example", date(2030, 1, 7), "nine to five"
        )


def test_cli_reports_unknown_navigator(
    seeded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded)
    from bot.core.settings import get_settings

    get_settings.cache_clear()
    try:
        code = cli(["availability", "override", "nobody@example.com", "2030-01-07", "closed"])
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert "no navigator" in capsys.readouterr().err
