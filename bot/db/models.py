"""The project's own tables: navigators and their hours, leads, bookings, outbox, callbacks."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declarative_base, relationship, validates
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
LEAD_STATUSES = ("new", "contacted", "booked", "closed")
BOOKING_STATUSES = ("confirmed", "cancelled")
OUTBOX_STATUSES = ("pending", "sent", "failed")
CALLBACK_STATUSES = ("open", "done")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def valid_timezone(name: str) -> str:
    """Return `name` if it is a known IANA time zone, else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error
    return name


def timezone_check(column: str) -> Any:
    """A model validator of `column` that accepts IANA time zone names only."""

    @validates(column)
    def check(_model: object, _key: str, value: str) -> str:
        """Accept IANA time zone names only."""
        return valid_timezone(value)

    return check


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC (naive on SQLite, which keeps no offset)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Navigator(Base):
    """A physician navigator who takes intro calls."""

    __tablename__ = "navigators"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(120), nullable=False)
    email: Mapped[str] = Column(String(320), nullable=False, unique=True)
    timezone: Mapped[str] = Column(String(64), nullable=False)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)

    weekly_hours: Mapped[list[WeeklyHours]] = relationship(
        "WeeklyHours", back_populates="navigator", cascade="all, delete-orphan"
    )
    date_overrides: Mapped[list[DateOverride]] = relationship(
        "DateOverride", back_populates="navigator", cascade="all, delete-orphan"
    )
    time_off: Mapped[list[TimeOff]] = relationship(
        "TimeOff", back_populates="navigator", cascade="all, delete-orphan"
    )

    _check_timezone = timezone_check("timezone")


class WeeklyHours(Base):
    """A recurring weekly working interval, in the navigator's local time."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    navigator_id: Mapped[int] = Column(
        ForeignKey("navigators.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday: Mapped[int] = Column(Integer, nullable=False)  # 0 = Monday
    start_time: Mapped[time] = Column(Time, nullable=False)
    end_time: Mapped[time] = Column(Time, nullable=False)

    navigator: Mapped[Navigator] = relationship("Navigator", back_populates="weekly_hours")


class DateOverride(Base):
    """Hours that replace the weekly hours on one local date (no hours = closed)."""

    __tablename__ = "date_overrides"
    __table_args__ = (
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL)"
            " OR (start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)",
            name="closed_or_start_before_end",
        ),
        Index("ix_date_overrides_navigator_id_date", "navigator_id", "date"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    navigator_id: Mapped[int] = Column(
        ForeignKey("navigators.id", ondelete="CASCADE"), nullable=False
    )
    date: Mapped[date] = Column(Date, nullable=False)
    start_time: Mapped[time | None] = Column(Time, nullable=True)
    end_time: Mapped[time | None] = Column(Time, nullable=True)

    navigator: Mapped[Navigator] = relationship("Navigator", back_populates="date_overrides")


class TimeOff(Base):
    """An absolute interval in which a navigator takes no calls."""

    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="starts_before_ends"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    navigator_id: Mapped[int] = Column(
        ForeignKey("navigators.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    reason: Mapped[str | None] = Column(String(200), nullable=True)

    navigator: Mapped[Navigator] = relationship("Navigator", back_populates="time_off")


class Lead(Base):
    """A visitor who left contact details, with what the conversation learned."""

    __tablename__ = "leads"
    __table_args__ = (CheckConstraint(one_of("status", LEAD_STATUSES), name="status"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    name: Mapped[str] = Column(String(120), nullable=False)
    email: Mapped[str | None] = Column(String(320), nullable=True)
    phone: Mapped[str | None] = Column(String(16), nullable=True)
    timezone: Mapped[str] = Column(String(64), nullable=False)
    summary: Mapped[str | None] = Column(String(300), nullable=True)
    consent: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    consent_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    recommendation: Mapped[str | None] = Column(String(32), nullable=True)
    situation: Mapped[str | None] = Column(String(64), nullable=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    warmth_score: Mapped[int] = Column(Integer, nullable=False, default=0)
    warmth_reasons: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    status: Mapped[str] = Column(String(16), nullable=False, default="new")

    bookings: Mapped[list[Booking]] = relationship("Booking", back_populates="lead")

    _check_timezone = timezone_check("timezone")

    @validates("phone")
    def _check_phone(self, _key: str, value: str | None) -> str | None:
        """Accept E.164 numbers (`+` and up to 15 digits) only."""
        if value is not None and not E164.match(value):
            raise ValueError(f"phone number is not E.164: {value!r}")
        return value


class Booking(Base):
    """A booked intro call; `active_start` makes a navigator's start time bookable once."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("navigator_id", "active_start"),
        CheckConstraint(one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint(
            "(status = 'confirmed' AND active_start = starts_at)"
            " OR (status = 'cancelled' AND active_start IS NULL)",
            name="active_start_follows_status",
        ),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), nullable=False, unique=True)
    lead_id: Mapped[int] = Column(ForeignKey("leads.id"), nullable=False, index=True)
    navigator_id: Mapped[int] = Column(ForeignKey("navigators.id"), nullable=False)
    starts_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, index=True)
    ends_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    visitor_timezone: Mapped[str] = Column(String(64), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="confirmed")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    active_start: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)

    lead: Mapped[Lead] = relationship("Lead", back_populates="bookings")
    navigator: Mapped[Navigator] = relationship("Navigator")

    _check_timezone = timezone_check("visitor_timezone")


class OutboxMessage(Base):
    """An email (or other message) waiting to be sent by the outbox worker."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    booking_id: Mapped[int | None] = Column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = Column(String(32), nullable=False)
    recipient: Mapped[str] = Column(String(320), nullable=False)
    subject: Mapped[str] = Column(String(200), nullable=False)
    body_text: Mapped[str] = Column(Text, nullable=False)
    attachment_name: Mapped[str | None] = Column(String(120), nullable=True)
    attachment: Mapped[str | None] = Column(Text, nullable=True)
    status: Mapped[str] = Column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    last_error: Mapped[str | None] = Column(Text, nullable=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)


class CallbackRequest(Base):
    """A visitor's request to be contacted by a person."""

    __tablename__ = "callback_requests"
    __table_args__ = (CheckConstraint(one_of("status", CALLBACK_STATUSES), name="status"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    contact: Mapped[str | None] = Column(String(320), nullable=True)
    note: Mapped[str | None] = Column(Text, nullable=True)
    status: Mapped[str] = Column(String(16), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
