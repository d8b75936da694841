"""Live takeover: a visitor's request for a person, and the navigator who joins the chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped

from bot.db.models import Base, UTCDateTime, one_of, utcnow

HANDOFF_STATUSES = ("waiting", "claimed", "closed")
OPEN_STATUSES = ("waiting", "claimed")
HANDOFF_OUTCOMES = (
    "handed_back",  # the navigator gave the conversation back to the assistant
    "no_reply",  # claimed, but no staff reply within the set time: callback and booking offered
    "unclaimed",  # nobody claimed it within the set time: callback and booking offered
    "out_of_hours",  # asked for outside staff hours: callback and booking offered at once
    "cancelled",  # withdrawn by staff before anyone joined
)
REQUESTERS = ("visitor", "staff")


class Handoff(Base):
    """One request for a person in one conversation, from waiting through claim to closing.

    At most one handoff per conversation is open (waiting or claimed) at a time: a partial unique
    index holds that even when two requests race.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(one_of("status", HANDOFF_STATUSES), name="status"),
        CheckConstraint(
            f"outcome IS NULL OR {one_of('outcome', HANDOFF_OUTCOMES)}", name="outcome"
        ),
        CheckConstraint(one_of("requested_by", REQUESTERS), name="requested_by"),
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
        Index("ix_handoffs_status", "status"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="waiting")
    requested_by: Mapped[str] = Column(String(16), nullable=False, default="visitor")
    requested_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    requested_by_staff_id: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    claimed_by_id: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    claimed_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    last_staff_message_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    staff_messages: Mapped[int] = Column(Integer, nullable=False, default=0)
    closed_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = Column(String(16), nullable=True)
    note: Mapped[str | None] = Column(Text, nullable=True)  # the hand-back note, for staff only
