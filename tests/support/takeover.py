"""Live-takeover helpers for end-to-end tests: a team on duty, a staff member, Rasa's API.

The navigators the tests add are on duty around the clock (two zones twelve hours apart, so
the one-second gap at each local midnight never overlaps) and are removed afterwards, so the
booking tests sharing the servers see the default availability again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from uuid import uuid4

from sqlalchemy import delete, select

from bot.core.settings import Settings
from bot.db.models import Navigator, OutboxMessage, WeeklyHours
from bot.db.session import session_scope
from bot.db.staff import StaffUser
from bot.handoff import takeover
from bot.handoff.alerts import KIND as ALERT_KIND
from bot.handoff.conversation import Conversation, staff_event
from bot.staff.accounts import create_user
from tests.support.servers import Servers

ZONES = ("Pacific/Kiritimati", "Etc/GMT+10")  # UTC+14 and UTC-10: midnights 12 h apart
PASSWORD = "correct horse battery staple 42"


@contextmanager
def team_on_duty(database_url: str) -> Iterator[list[str]]:
    """Two navigators working 00:00-23:59:59 every day; yields their emails, then removes them."""
    tag = uuid4().hex[:8]
    emails = [f"live-{tag}-{n}@pilotrock.example" for n in range(len(ZONES))]
    with session_scope(database_url) as db:
        for email, zone in zip(emails, ZONES, strict=True):
            navigator = Navigator(name=f"Live desk {zone}", email=email, timezone=zone, active=True)
            navigator.weekly_hours = [
                WeeklyHours(weekday=day, start_time=time(0), end_time=time(23, 59, 59))
                for day in range(7)
            ]
            db.add(navigator)
    try:
        yield emails
    finally:
        with session_scope(database_url) as db:
            ids = list(db.scalars(select(Navigator.id).where(Navigator.email.in_(emails))))
            db.execute(delete(WeeklyHours).where(WeeklyHours.navigator_id.in_(ids)))
            db.execute(delete(Navigator).where(Navigator.id.in_(ids)))


def staff_member(
    database_url: str, role: str = "navigator", name: str = "Maya Patel", username: str = ""
) -> int:
    """A new staff account (password PASSWORD); its id."""
    with session_scope(database_url) as db:
        user = create_user(
            db,
            username=username or f"{role}-{uuid4().hex[:8]}",
            display_name=name,
            role=role,
            password=PASSWORD,
        )
        return user.id


def load_staff(db, user_id: int) -> StaffUser:
    """A staff account by id, in `db`."""
    user = db.get(StaffUser, user_id)
    assert user is not None
    return user


def alerts_to(database_url: str, emails: list[str]) -> list[OutboxMessage]:
    """Handoff alert emails queued for these recipients."""
    with session_scope(database_url) as db:
        rows = db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == ALERT_KIND, OutboxMessage.recipient.in_(emails)
            )
        ).all()
        db.expunge_all()
        return list(rows)


def opener(servers: Servers) -> Callable[[str], Conversation]:
    """Open conversations on the test servers' Rasa HTTP API."""
    settings = Settings(
        rasa_url=servers.rasa_url, rasa_api_token=servers.token, database_url=servers.database_url
    )
    return lambda conversation_id: Conversation(conversation_id, settings)


def send_staff_message(
    servers: Servers, session_id: str, text: str, staff_name: str = "Maya Patel"
) -> None:
    """A navigator's message into a conversation, through Rasa's HTTP API as the staff app sends it.

    Each call opens a new connection, so any Sanic worker may answer it.
    """
    conversation = opener(servers)(session_id)
    try:
        conversation.say(staff_event(text, "staff_message", staff_name, None))
    finally:
        conversation.close()


@dataclass
class TeamMember:
    """A staff member taking over through `bot.handoff.takeover`, the calls the staff app makes."""

    database_url: str
    user_id: int
    open_conversation: Callable[[str], Conversation]
    live: timedelta = timedelta(minutes=10)

    @classmethod
    def new(cls, servers: Servers, name: str) -> TeamMember:
        """A new navigator account on the servers' database, reaching their Rasa."""
        url = servers.database_url
        return cls(url, staff_member(url, name=name), opener(servers))

    def join(self, conversation_id: str) -> None:
        """Join the conversation (the bot pauses)."""
        self._act(takeover.join, conversation_id, datetime.now(timezone.utc), self.live)

    def send(self, conversation_id: str, text: str) -> None:
        """Write to the visitor."""
        self._act(takeover.send, conversation_id, text, datetime.now(timezone.utc))

    def hand_back(self, conversation_id: str, note: str = "") -> None:
        """Hand the conversation back to the assistant."""
        self._act(takeover.hand_back, conversation_id, note, datetime.now(timezone.utc))

    def _act(self, step: Callable[..., object], conversation_id: str, *args: object) -> None:
        """One takeover step as this member: step(db, opener, conversation_id, member, *args)."""
        with session_scope(self.database_url) as db:
            step(db, self.open_conversation, conversation_id, load_staff(db, self.user_id), *args)
