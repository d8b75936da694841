"""Staff review of one conversation: status, tags, notes, and intent, answer and risk labels."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, TypeVar

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core.paths import ROOT
from bot.db import audit
from bot.db.models import utcnow
from bot.db.reviews import (
    NO_RISK,
    NOT_AN_ANSWER,
    RISK_LABELS,
    Annotation,
    AnswerAnnotation,
    ConversationNote,
    ConversationReview,
    ConversationTag,
    RiskAnnotation,
    answer_values,
)
from bot.db.staff import StaffUser
from bot.intake.recommendation import ASSESSMENT_SLOTS
from bot.intake.risk import stored_assessment
from bot.rasa.events import events_table

DOMAIN_FILE = ROOT / "domain.yml"
TAG_PATTERN = re.compile(r"^[a-z0-9-]{1,40}$")
NOTE_MAX_CHARS = 2000
TARGET = "conversation"
ANSWERS_KEY = "answers"  # parse data: the answer model's reading for each question
OPEN_QUESTION_KEY = "open_question"  # parse data: the question open when the message came
MAX_EVENT_ID = 2**31 - 1  # Rasa's events.id is an INTEGER

Label = TypeVar("Label", Annotation, AnswerAnnotation, RiskAnnotation)  # a staff label's row


class ConversationNotFoundError(LookupError):
    """No stored events for that conversation (or that event is not in it)."""


@dataclass(frozen=True)
class Note:
    """A staff note as shown beside a transcript."""

    id: int
    author: str | None  # the author's display name; None once the account is gone
    at: datetime
    body: str


@dataclass(frozen=True)
class ReviewState:
    """Where staff review of one conversation stands."""

    status: str  # "unreviewed" or "reviewed"
    reviewed_by: str | None  # the reviewer's display name
    reviewed_at: datetime | None
    tags: list[str]
    notes: list[Note]


@dataclass(frozen=True)
class AnswerReading:
    """The answer model's reading of one visitor message for one question."""

    question: str
    value: str  # one of the question's two values, or "none"
    confidence: float | None


def known_intents() -> list[str]:
    """The intents declared in domain.yml, in their order there."""
    return list(domain_intents())


@lru_cache(maxsize=1)
def domain_intents() -> tuple[str, ...]:
    """domain.yml's intents, read once per process."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    return tuple(intent_name(item) for item in domain.get("intents") or [])


def intent_name(item: str | dict[str, Any]) -> str:
    """The name of a domain intent entry (`greet` or `{greet: {use_entities: ...}}`)."""
    return item if isinstance(item, str) else next(iter(item))


def actor_of(user: StaffUser) -> str:
    """The audit actor for a staff user."""
    return f"staff:{user.username}"


def require_conversation(session: Session, conversation_id: str) -> None:
    """Raise ConversationNotFoundError unless the tracker store holds that conversation."""
    found = session.execute(
        select(events_table.c.id).where(events_table.c.sender_id == conversation_id).limit(1)
    ).first()
    if found is None:
        raise ConversationNotFoundError(f"no conversation {conversation_id!r}")


def review_state(session: Session, conversation_id: str) -> ReviewState:
    """Review status, reviewer, tags and notes (oldest first) of one conversation."""
    review = session.get(ConversationReview, conversation_id)
    reviewer = session.get(StaffUser, review.reviewed_by) if review and review.reviewed_by else None
    tags = session.scalars(
        select(ConversationTag.tag)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)
    ).all()
    rows = session.execute(
        select(ConversationNote, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == ConversationNote.author_id)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.created_at, ConversationNote.id)
    ).all()
    return ReviewState(
        status=review.status if review else "unreviewed",
        reviewed_by=reviewer.display_name if reviewer else None,
        reviewed_at=review.reviewed_at if review else None,
        tags=list(tags),
        notes=[Note(n.id, author, n.created_at, n.body) for n, author in rows],
    )


def set_reviewed(session: Session, conversation_id: str, user: StaffUser, reviewed: bool) -> None:
    """Mark a conversation reviewed by `user` now, or back to unreviewed."""
    require_conversation(session, conversation_id)
    review = session.get(ConversationReview, conversation_id)
    if review is None:
        review = ConversationReview(conversation_id=conversation_id)
        session.add(review)
    review.status = "reviewed" if reviewed else "unreviewed"
    review.reviewed_by = user.id if reviewed else None
    review.reviewed_at = utcnow() if reviewed else None
    session.flush()
    record(session, user, "mark_reviewed" if reviewed else "mark_unreviewed", conversation_id)


def valid_tag(tag: str) -> str:
    """The tag, trimmed and lower-cased, or ValueError if it is not 1-40 of [a-z0-9-]."""
    cleaned = tag.strip().lower()
    if not TAG_PATTERN.match(cleaned):
        raise ValueError("a tag is 1-40 characters: lowercase letters, digits and hyphens")
    return cleaned


def add_tag(session: Session, conversation_id: str, user: StaffUser, tag: str) -> str:
    """Put a tag on a conversation (no-op if it is already there); returns the stored tag."""
    tag = valid_tag(tag)
    require_conversation(session, conversation_id)
    exists = session.scalar(
        select(ConversationTag.id).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag
        )
    )
    if exists is None:
        session.add(ConversationTag(conversation_id=conversation_id, tag=tag))
        session.flush()
        record(session, user, "add_tag", conversation_id)
    return tag


def remove_tag(session: Session, conversation_id: str, user: StaffUser, tag: str) -> bool:
    """Take a tag off a conversation; False if it was not there."""
    tag = valid_tag(tag)
    removed = session.execute(
        delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag
        )
    ).rowcount
    if removed:
        record(session, user, "remove_tag", conversation_id)
    return bool(removed)


def add_note(
    session: Session, conversation_id: str, user: StaffUser, body: str
) -> ConversationNote:
    """Add a note of 1-2000 characters (surrounding whitespace trimmed) by `user`."""
    body = body.strip()
    if not 1 <= len(body) <= NOTE_MAX_CHARS:
        raise ValueError(f"a note is 1-{NOTE_MAX_CHARS} characters")
    require_conversation(session, conversation_id)
    note = ConversationNote(conversation_id=conversation_id, author_id=user.id, body=body)
    session.add(note)
    session.flush()
    record(session, user, "add_note", conversation_id, note_id=note.id)
    return note


def visitor_message(session: Session, conversation_id: str, event_id: int) -> dict[str, Any]:
    """The stored `user` event `event_id` of that conversation, or an error saying why not."""
    row = session.execute(
        select(events_table.c.type_name, events_table.c.data).where(
            events_table.c.id == event_id, events_table.c.sender_id == conversation_id
        )
    ).first()
    if row is None:
        raise ConversationNotFoundError(f"no event {event_id} in conversation {conversation_id!r}")
    if row.type_name != "user":
        raise ValueError("only visitor messages can be annotated")
    data = json.loads(row.data) if row.data else {}
    text = (data.get("text") or "").strip()
    if not text or text.startswith("/"):
        raise ValueError("only typed visitor messages can be annotated, not button clicks")
    return data


def conversation_of_message(session: Session, event_id: int) -> str | None:
    """The conversation holding the visitor message (`user` event) `event_id`, if any."""
    if not 0 < event_id <= MAX_EVENT_ID:
        return None
    return session.scalar(
        select(events_table.c.sender_id).where(
            events_table.c.id == event_id, events_table.c.type_name == "user"
        )
    )


def annotate(
    session: Session, conversation_id: str, event_id: int, corrected_intent: str, user: StaffUser
) -> Annotation:
    """Save (or change) the correct intent of one visitor message of a conversation."""
    if corrected_intent not in domain_intents():
        raise ValueError(f"unknown intent {corrected_intent!r}")
    data = visitor_message(session, conversation_id, event_id)
    key = {"conversation_id": conversation_id, "event_id": event_id}
    new = partial(new_annotation, data)
    row = save_label(session, Annotation, key, new, user, corrected_intent=corrected_intent)
    record(session, user, "annotate", conversation_id, event_id=event_id)
    return row


def new_annotation(data: dict[str, Any]) -> dict[str, Any]:
    """A new annotation's text and the NLU's intent, from the message's event data."""
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
    return {"text": data["text"], "predicted_intent": intent}


def save_label(
    session: Session,
    model: type[Label],
    key: dict[str, Any],
    new: Callable[[], dict[str, Any]],
    user: StaffUser,
    **chosen: str,
) -> Label:
    """The `model` row with `key` (new with `new()`'s fields if none) set to `chosen` by `user`."""
    row = session.scalar(select(model).filter_by(**key))
    now = utcnow()
    if row is None:
        row = model(**key, **new(), created_at=now)
        session.add(row)
    for name, value in chosen.items():
        setattr(row, name, value)
    row.author_id = user.id
    row.updated_at = now
    session.flush()
    return row


def labels_of(session: Session, model: type[Label], conversation_id: str) -> list[Label]:
    """The rows of one kind of staff label for one conversation."""
    return list(session.scalars(select(model).filter_by(conversation_id=conversation_id)))


def annotations_for(session: Session, conversation_id: str) -> dict[int, Annotation]:
    """The annotations of one conversation by the event id of the message they correct."""
    return {row.event_id: row for row in labels_of(session, Annotation, conversation_id)}


def open_question_of(parse_data: dict[str, Any]) -> str | None:
    """The assessment question open when the message arrived (None if none or unknown)."""
    question = parse_data.get(OPEN_QUESTION_KEY)
    return question if question in ASSESSMENT_SLOTS else None


def reading_of(parse_data: dict[str, Any], question: str) -> AnswerReading | None:
    """The answer model's reading for `question`, if the parse data holds a well-formed one."""
    answers = parse_data.get(ANSWERS_KEY)
    reading = answers.get(question) if isinstance(answers, dict) else None
    if not isinstance(reading, dict) or reading.get("value") not in answer_values(question):
        return None
    return AnswerReading(question, reading["value"], confidence_of(reading.get("confidence")))


def confidence_of(value: Any) -> float | None:
    """A confidence from parse data: a number from 0 to 1, else None."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and 0.0 <= value <= 1.0 else None


def valid_answer(question: str, value: str) -> None:
    """Raise ValueError unless `question` is an assessment question and `value` its label."""
    if question not in ASSESSMENT_SLOTS:
        raise ValueError(
            f"unknown question {question!r}: choose one of {', '.join(ASSESSMENT_SLOTS)}"
        )
    if value not in answer_values(question):
        first, second, _ = answer_values(question)
        raise ValueError(
            f"{value!r} is not an answer label for the {question} question: "
            f"choose {first}, {second} or not an answer ({NOT_AN_ANSWER})"
        )


def annotate_answer(
    session: Session,
    conversation_id: str,
    event_id: int,
    question: str,
    value: str,
    user: StaffUser,
) -> AnswerAnnotation:
    """Save (or change) what one visitor message answers to one assessment question."""
    valid_answer(question, value)
    data = visitor_message(session, conversation_id, event_id)
    key = {"conversation_id": conversation_id, "event_id": event_id, "question": question}
    new = partial(new_answer_label, data, question)
    label = save_label(session, AnswerAnnotation, key, new, user, value=value)
    record(session, user, "annotate_answer", conversation_id, event_id=event_id, question=question)
    return label


def new_answer_label(data: dict[str, Any], question: str) -> dict[str, Any]:
    """A new answer label's text and the answer model's reading, from the message's event data."""
    reading = reading_of(data.get("parse_data") or {}, question)
    return {
        "text": data["text"],
        "predicted_value": reading.value if reading else None,
        "predicted_confidence": reading.confidence if reading else None,
    }


def answer_annotations_for(
    session: Session, conversation_id: str
) -> dict[int, list[AnswerAnnotation]]:
    """The answer labels of one conversation by message event id, in question order."""
    rows = labels_of(session, AnswerAnnotation, conversation_id)
    found: dict[int, list[AnswerAnnotation]] = {}
    for row in sorted(rows, key=lambda r: (r.event_id, ASSESSMENT_SLOTS.index(r.question))):
        found.setdefault(row.event_id, []).append(row)
    return found


def valid_risk_label(label: str) -> None:
    """Raise ValueError unless `label` is a risk label (acute, crisis or none)."""
    if label not in RISK_LABELS:
        raise ValueError(
            f"{label!r} is not a risk label: choose acute or crisis (a missed risk) "
            f"or {NO_RISK} (a false alarm)"
        )


def annotate_risk(
    session: Session, conversation_id: str, event_id: int, label: str, user: StaffUser
) -> RiskAnnotation:
    """Save (or change) the risk label of one visitor message: a missed risk or a false alarm."""
    valid_risk_label(label)
    data = visitor_message(session, conversation_id, event_id)
    key = {"conversation_id": conversation_id, "event_id": event_id}
    row = save_label(session, RiskAnnotation, key, partial(new_risk_label, data), user, label=label)
    record(session, user, "annotate_risk", conversation_id, event_id=event_id)
    return row


def new_risk_label(data: dict[str, Any]) -> dict[str, Any]:
    """A new risk label's text and the NLU's risk reading, from the message's event data."""
    parse_data = data.get("parse_data")
    risk = stored_assessment(parse_data) if isinstance(parse_data, dict) else None
    return {
        "text": data["text"],
        "predicted_label": risk.label if risk else None,
        "predicted_score": risk.score if risk else None,
        "predicted_level": risk.level if risk else None,
    }


def risk_annotations_for(session: Session, conversation_id: str) -> dict[int, RiskAnnotation]:
    """The risk labels of one conversation by the event id of the message they label."""
    return {row.event_id: row for row in labels_of(session, RiskAnnotation, conversation_id)}


def record(
    session: Session, user: StaffUser, action: str, conversation_id: str, **details: Any
) -> None:
    """Audit one review edit with ids only (tags, notes and texts may hold health details)."""
    audit.record(
        session,
        actor=actor_of(user),
        action=action,
        target_type=TARGET,
        target_id=conversation_id,
        details=details or None,
    )
