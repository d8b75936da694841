"""The navigator team of the alert tests: weekday hours in three time zones, the staff address."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from bot.booking.availability import set_weekly_hours
from bot.db.models import Navigator

MONDAY = datetime(2030, 1, 7, 15, 30, tzinfo=timezone.utc)  # 10:30 New York, 07:30 Los Angeles
SATURDAY = datetime(2030, 1, 5, 15, 30, tzinfo=timezone.utc)
STAFF_URL = "https://staff.pilotrock.example"  # the staff app's public address (STAFF_PUBLIC_URL)
WEEKDAYS = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def navigator(
    session: Session, email: str, zone: str, weekly: dict[str, list[str]], active: bool = True
) -> Navigator:
    """A navigator in the availability tables with explicit weekly hours (committed)."""
    row = Navigator(name=email.split("@")[0], email=email, timezone=zone, active=active)
    session.add(row)
    session.flush()
    set_weekly_hours(session, row, weekly)
    session.commit()
    return row


def weekday_team(session: Session) -> list[Navigator]:
    """East, central and west navigators on weekday hours (on MONDAY, east and central are on)."""
    zones = {
        "east": "America/New_York",
        "central": "America/Chicago",
        "west": "America/Los_Angeles",
    }
    return [
        navigator(session, f"{name}@pilotrock.example", zone, WEEKDAYS)
        for name, zone in zones.items()
    ]
