"""Handoff rows: request, claim, staff messages, closing; every change is one guarded update."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.handoffs import OPEN_STATUSES, Handoff
from bot.db.models import utcnow


class HandoffError(Exception):
    """A handoff change that cannot be made (said to staff as it is)."""


def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's waiting or claimed handoff, if any."""
    return session.scalar(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES)
        )
    )


def latest_handoff(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's most recent handoff, open or closed."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def request(
    session: Session,
    conversation_id: str,
    channel: str,
    *,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Handoff, bool]:
    """Open a waiting request (or return the open one); the bool says whether it is new."""
    existing = open_handoff(session, conversation_id)
    if existing:
        return existing, False
    handoff = Handoff(
        conversation_id=conversation_id,
        channel=channel or "unknown",
        status="waiting",
        requested_by="staff" if staff_id else "visitor",
        requested_by_staff_id=staff_id,
        requested_at=now or utcnow(),
        staff_messages=0,
    )
    try:
        with session.begin_nested():
            session.add(handoff)
    except IntegrityError:  # another request for this conversation won the race
        existing = open_handoff(session, conversation_id)
        if existing is None:
            raise
        return existing, False
    return handoff, True


def claim(session: Session, handoff: Handoff, staff_id: int, now: datetime | None = None) -> None:
    """Give a waiting handoff to one staff member; a second claimant is refused."""
    if handoff.status == "claimed" and handoff.claimed_by_id == staff_id:
        return
    moment = now or utcnow()
    claimed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "waiting")
        .values(status="claimed", claimed_by_id=staff_id, claimed_at=moment)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if not claimed:
        if handoff.status == "claimed":
            raise HandoffError("Another team member has already joined this conversation.")
        raise HandoffError("This request is closed.")


def release_claim(session: Session, handoff: Handoff) -> None:
    """Undo a claim whose pause never reached the conversation."""
    handoff.status = "waiting"
    handoff.claimed_by_id = None
    handoff.claimed_at = None
    session.flush()


def require_claimed_by(handoff: Handoff | None, staff_id: int) -> Handoff:
    """The handoff, if this staff member holds it; otherwise why not."""
    if handoff is None or handoff.status != "claimed":
        raise HandoffError("Join the conversation before writing to the visitor.")
    if handoff.claimed_by_id != staff_id:
        raise HandoffError("Another team member is in this conversation.")
    return handoff


def note_staff_message(session: Session, handoff: Handoff, now: datetime | None = None) -> None:
    """Count one staff message and restart the reply clock."""
    handoff.staff_messages = (handoff.staff_messages or 0) + 1
    handoff.last_staff_message_at = now or utcnow()
    session.flush()


def close(
    session: Session,
    handoff: Handoff,
    outcome: str,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Close an open handoff with an outcome; False when it was already closed."""
    closed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status.in_(OPEN_STATUSES))
        .values(status="closed", outcome=outcome, closed_at=now or utcnow(), note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    return bool(closed)


def reopen(session: Session, handoff: Handoff, status: str) -> bool:
    """Undo a close whose fallback never reached the visitor; False if another one is open now."""
    try:
        with session.begin_nested():
            reopened = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == "closed")
                .values(status=status, outcome=None, closed_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
    except IntegrityError:  # the visitor asked again meanwhile: the new request takes over
        reopened = 0
    session.refresh(handoff)
    return bool(reopened)


def waiting_count(session: Session) -> int:
    """How many requests wait for someone to claim them."""
    return (
        session.scalar(select(func.count()).select_from(Handoff).where(Handoff.status == "waiting"))
        or 0
    )


def overdue(
    session: Session, now: datetime, *, claim_within: timedelta, reply_within: timedelta
) -> list[tuple[Handoff, str]]:
    """Open handoffs past their limit, with the outcome to close them with.

    A waiting request nobody claimed within `claim_within` is "unclaimed"; a claimed one whose
    staff member has not written for `reply_within` (since the claim or the last staff message)
    is "no_reply".
    """
    waiting = session.scalars(
        select(Handoff).where(
            Handoff.status == "waiting", Handoff.requested_at <= now - claim_within
        )
    )
    result = [(handoff, "unclaimed") for handoff in waiting]
    for handoff in session.scalars(select(Handoff).where(Handoff.status == "claimed")):
        last = handoff.last_staff_message_at or handoff.claimed_at or handoff.requested_at
        if last <= now - reply_within:
            result.append((handoff, "no_reply"))
    return result
