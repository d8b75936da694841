"""The navigator team of the alert tests: weekday hours in three time zones, the staff address.

Also the staff accounts and the lead the data-layer tests share.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from bot.booking.availability import set_weekly_hours
from bot.db.models import Lead, Navigator
from bot.db.staff import StaffUser

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


def staff_navigator(session: Session, username: str, display_name: str) -> StaffUser:
    """A navigator's staff account, flushed (its password is never used)."""
    user = StaffUser(
        username=username,
        display_name=display_name,
        role="navigator",
        password_hash="unused",
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def lead_and_navigator(
    session: Session, conversation_id: str, lead_timezone: str
) -> tuple[Lead, Navigator]:
    """Sam Rivera's lead from the conversation and Dr. Ada Park in Denver (committed)."""
    navigator = Navigator(name="Dr. Ada Park", email="ada@example.org", timezone="America/Denver")
    lead = Lead(
        name="Sam Rivera",
        email="sam@example.com",
        timezone=lead_timezone,
        channel="rest",
        conversation_id=conversation_id,
    )
    session.add_all([navigator, lead])
    session.commit()
    return lead, navigator
