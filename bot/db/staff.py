"""Staff tables: named accounts, their server-side sessions and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, relationship, validates

from bot.db.models import Base, UTCDateTime, one_of, utcnow

ROLES = ("admin", "navigator", "reviewer")
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class StaffUser(Base):
    """A named staff account (never shared) with one role."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = Column(String(120), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = Column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    password_changed_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)

    sessions: Mapped[list[StaffSession]] = relationship(
        "StaffSession", back_populates="user", cascade="all, delete-orphan"
    )

    @validates("role")
    def _check_role(self, _key: str, value: str) -> str:
        """Accept the known roles only."""
        if value not in ROLES:
            raise ValueError(f"unknown role {value!r}: use one of {', '.join(ROLES)}")
        return value


class StaffSession(Base):
    """A logged-in browser: only the token's hash is stored, with idle and absolute limits."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = Column(Integer, primary_key=True)
    token_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = Column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    user: Mapped[StaffUser] = relationship("StaffUser", back_populates="sessions")


class AuditEntry(Base):
    """One append-only audit record; `hash` chains it to the previous record's hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = Column(Integer, primary_key=True)
    seq: Mapped[int] = Column(Integer, nullable=False, unique=True)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = Column(String(64), nullable=False)
    action: Mapped[str] = Column(String(64), nullable=False)
    target_type: Mapped[str] = Column(String(32), nullable=False)
    target_id: Mapped[str | None] = Column(String(255), nullable=True)
    details: Mapped[dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = Column(String(64), nullable=False)
    hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
