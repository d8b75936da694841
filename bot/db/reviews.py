"""Staff review tables: the conversation index and its feed, review status, tags, notes, labels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr

from bot.core.vocabulary import ASSESSMENT_SLOTS, SIDES
from bot.db.models import Base, UTCDateTime, one_of, utcnow

OUTCOMES = ("booked", "lead", "recommendation", "none")
REVIEW_STATUSES = ("unreviewed", "reviewed")
NOT_AN_ANSWER = "none"  # the answer model's (and staff's) label for "not an answer to this"
NO_RISK = "none"  # the risk label of a message that signals no danger (a false alarm if flagged)
RISK_LABELS = ("acute", "crisis", NO_RISK)  # the risk model's classes, as in data/safety


def answer_values(question: str) -> tuple[str, ...]:
    """The labels an answer to `question` may carry: its two values, then NOT_AN_ANSWER."""
    return (*SIDES[question], NOT_AN_ANSWER)


def answer_value_check() -> str:
    """SQL for a CHECK that `value` is one of the labels of the row's `question`."""
    return " OR ".join(
        f"(question = '{question}' AND {one_of('value', answer_values(question))})"
        for question in ASSESSMENT_SLOTS
    )


class ConversationIndex(Base):
    """A searchable summary of one tracker-store conversation, rebuilt from Rasa's events."""

    __tablename__ = "conversation_index"
    __table_args__ = (
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome"),
        Index("ix_conversation_index_last_at", "last_at"),
    )

    conversation_id: Mapped[str] = Column(String(255), primary_key=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    started_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    last_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    last_event_id: Mapped[int] = Column(Integer, nullable=False)
    user_messages: Mapped[int] = Column(Integer, nullable=False, default=0)
    outcome: Mapped[str] = Column(String(16), nullable=False, default="none")
    recommendation: Mapped[str | None] = Column(String(32), nullable=True)
    emergency: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    fallback: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    low_confidence: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    human_requested: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    search_text: Mapped[str] = Column(Text, nullable=False, default="")
    preview: Mapped[str | None] = Column(String(200), nullable=True)  # first message, masked
    preview_personal: Mapped[str | None] = Column(String(200), nullable=True)  # as typed
    # The newest risk detection (a visitor event with risk level high or moderate) the team was
    # alerted to, or found too old to alert for: newer detections alert, this one never again.
    risk_alerted_event_id: Mapped[int | None] = Column(Integer, nullable=True)


class ConversationIntent(Base):
    """How many of an indexed conversation's visitor messages got one predicted intent."""

    __tablename__ = "conversation_intents"

    conversation_id: Mapped[str] = Column(
        ForeignKey("conversation_index.conversation_id", ondelete="CASCADE"), primary_key=True
    )
    intent: Mapped[str] = Column(String(255), primary_key=True)
    messages: Mapped[int] = Column(Integer, nullable=False)


class IndexCheckpoint(Base):
    """How far the index consumer has read one source of events (e.g. Rasa's events table)."""

    __tablename__ = "index_checkpoints"

    source: Mapped[str] = Column(String(64), primary_key=True)
    position: Mapped[int] = Column(BigInteger, nullable=False)  # the last event id applied
    marker: Mapped[float | None] = Column(Float, nullable=True)  # that event's timestamp
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class ConversationReview(Base):
    """Whether staff have reviewed a conversation, by whom and when."""

    __tablename__ = "conversation_reviews"
    __table_args__ = (CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),)

    conversation_id: Mapped[str] = Column(String(255), primary_key=True)
    status: Mapped[str] = Column(String(16), nullable=False, default="unreviewed")
    reviewed_by: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)


class ConversationTag(Base):
    """A short label staff put on a conversation."""

    __tablename__ = "conversation_tags"
    __table_args__ = (UniqueConstraint("conversation_id", "tag"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    tag: Mapped[str] = Column(String(40), nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class ConversationNote(Base):
    """A staff note on a conversation."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    author_id: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class MessageLabel:
    """The columns of a staff label on one visitor message: the message, its author, when."""

    id: Mapped[int] = Column(Integer, primary_key=True)
    # Leads each label table's unique key, which indexes it; `annotations` has its own index too.
    conversation_id: Mapped[str] = Column(String(255), nullable=False)
    event_id: Mapped[int] = Column(Integer, nullable=False)  # Rasa's events.id of the message
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)

    @declared_attr
    def author_id(cls) -> Column:  # noqa: N805 (SQLAlchemy passes the mapped class)
        """The staff account that labelled it (kept NULL once the account is deleted)."""
        return Column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)


class Annotation(MessageLabel, Base):
    """A staff correction of the intent predicted for one visitor message."""

    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id"),)

    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    predicted_intent: Mapped[str | None] = Column(String(64), nullable=True)
    corrected_intent: Mapped[str] = Column(String(64), nullable=False)


class AnswerAnnotation(MessageLabel, Base):
    """A staff label of what one visitor message answers to one assessment question."""

    __tablename__ = "answer_annotations"
    __table_args__ = (
        UniqueConstraint("conversation_id", "event_id", "question"),
        CheckConstraint(answer_value_check(), name="value_fits_question"),
    )

    question: Mapped[str] = Column(String(16), nullable=False)  # an assessment slot
    predicted_value: Mapped[str | None] = Column(String(16), nullable=True)
    predicted_confidence: Mapped[float | None] = Column(Float, nullable=True)
    value: Mapped[str] = Column(String(16), nullable=False)  # answer_values(question)


class RiskAnnotation(MessageLabel, Base):
    """A staff label of one visitor message's risk: a missed risk, or a false alarm (none)."""

    __tablename__ = "risk_annotations"
    __table_args__ = (
        UniqueConstraint("conversation_id", "event_id"),
        CheckConstraint(one_of("label", RISK_LABELS), name="label"),
    )

    predicted_label: Mapped[str | None] = Column(String(16), nullable=True)
    predicted_score: Mapped[float | None] = Column(Float, nullable=True)
    predicted_level: Mapped[str | None] = Column(String(16), nullable=True)
    label: Mapped[str] = Column(String(16), nullable=False)  # RISK_LABELS
