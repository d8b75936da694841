"""The staff inbox: indexed conversations, newest first, filtered and paginated in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from math import ceil
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.conversations.summary import ConversationFacts
from bot.core.settings import get_settings
from bot.db.handoffs import OPEN_STATUSES, Handoff
from bot.db.models import utcnow
from bot.db.reviews import (
    OUTCOMES,
    REVIEW_STATUSES,
    ConversationIndex,
    ConversationReview,
    ConversationTag,
)
from bot.db.staff import StaffUser
from bot.intake.recommendation import ADVOCACY, BOTH, SECOND_OPINION

CHANNELS = ("rest", "socketio", "telegram")
CHANNEL_LABELS = {"rest": "REST API", "socketio": "Website chat", "telegram": "Telegram"}
OUTCOME_LABELS = {
    "booked": "Booked",
    "lead": "Lead without booking",
    "recommendation": "Recommendation only",
    "none": "None",
}
RECOMMENDATIONS = (SECOND_OPINION, BOTH, ADVOCACY)
RECOMMENDATION_LABELS = {
    SECOND_OPINION: "Second opinion",
    BOTH: "Both",
    ADVOCACY: "Advocacy",
}
REVIEW_STATUS_LABELS = {"unreviewed": "Not reviewed", "reviewed": "Reviewed"}
HANDOFF_FILTERS = ("waiting", "claimed", "any")  # any: waiting or claimed
HANDOFF_FILTER_LABELS = {
    "waiting": "Waiting for a person",
    "claimed": "With a team member",
    "any": "Waiting or with a team member",
}
FLAGS = ("emergency", "fallback", "human_requested", "live")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
MAX_TEXT = 200
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox shows; every field is optional (None = no filter).

    `fallback` matches conversations with a fallback or a low-confidence message; dates are
    UTC calendar days compared with the conversation's last message; `handoff` picks open
    requests for a person (waiting, claimed or any); `live` compares the last message with the
    live window.
    """

    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    outcome: str | None = None
    recommendation: str | None = None
    emergency: bool | None = None
    fallback: bool | None = None
    human_requested: bool | None = None
    review_status: str | None = None
    text: str | None = None
    handoff: str | None = None
    live: bool | None = None

    def __post_init__(self) -> None:
        """Refuse values outside the choice lists and an inverted date range."""
        choose("channel", self.channel, CHANNELS)
        choose("outcome", self.outcome, OUTCOMES)
        choose("recommendation", self.recommendation, RECOMMENDATIONS)
        choose("review_status", self.review_status, REVIEW_STATUSES)
        choose("handoff", self.handoff, HANDOFF_FILTERS)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                f"date_from ({self.date_from.isoformat()}) is after "
                f"date_to ({self.date_to.isoformat()})"
            )
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise ValueError(f"text: at most {MAX_TEXT} characters")

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> InboxFilters:
        """Filters from query-string values (empty values mean no filter; other keys ignored)."""
        values: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            raw = query.get(name)
            text = raw.strip() if isinstance(raw, str) else None
            if not text:
                continue
            if name in ("date_from", "date_to"):
                values[name] = parse_date(name, text)
            elif name in FLAGS:
                values[name] = parse_flag(name, text)
            else:
                values[name] = text
        return cls(**values)

    def to_query(self) -> dict[str, str]:
        """The set filters as query-string values (for links that keep the filters)."""
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, bool):
                out[name] = "1" if value else "0"
            elif isinstance(value, date):
                out[name] = value.isoformat()
            else:
                out[name] = str(value)
        return out


@dataclass(frozen=True)
class HandoffState:
    """A conversation's open request for a person: waiting, or claimed by a staff member."""

    status: str  # waiting or claimed
    staff_name: str | None = None  # the claimant's display name (None: account since deleted)

    @property
    def label(self) -> str:
        """How the inbox says it."""
        if self.status == "waiting":
            return "Waiting for a person"
        return f"With {self.staff_name or 'a team member'}"


@dataclass(frozen=True)
class InboxRow(ConversationFacts):
    """One conversation in the inbox: index fields, review status, tags, live and handoff state."""

    conversation_id: str
    last_event_id: int
    review_status: str
    tags: list[str] = field(default_factory=list)
    live: bool = False
    handoff: HandoffState | None = None


EXTRA = {"review_status", "tags", "live", "handoff"}  # InboxRow fields that are not index columns


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox."""

    items: list[InboxRow]
    total: int
    page: int
    pages: int
    per_page: int = 25

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def choose(name: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Raise ValueError unless `value` is None or one of `choices`."""
    if value is not None and value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; choose one of {', '.join(choices)}")


def parse_date(name: str, text: str) -> date:
    """A date in YYYY-MM-DD form, or ValueError naming the field."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{name}: {text!r} is not a date (use YYYY-MM-DD)") from error


def parse_flag(name: str, text: str) -> bool:
    """A yes/no value (1/0, true/false, yes/no, on/off), or ValueError naming the field."""
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(f"{name}: {text!r} is not yes or no (use 1 or 0)")


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a calendar day."""
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def like_pattern(text: str) -> str:
    """A lower-case LIKE pattern matching `text` anywhere, with % _ and \\ escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def review_status_column() -> Any:
    """The review status, 'unreviewed' when no review row exists."""
    return func.coalesce(ConversationReview.status, "unreviewed")


def live_window_start(now: datetime, minutes: int) -> datetime:
    """The earliest last message of a conversation that counts as live at `now`."""
    return now - timedelta(minutes=minutes)


def default_live_since() -> datetime:
    """The live window's start now, by the `handoff_live_minutes` setting."""
    return live_window_start(utcnow(), get_settings().handoff_live_minutes)


def filtered(statement: Select, filters: InboxFilters, live_since: datetime) -> Select:
    """Apply the filters to a statement over the index joined with reviews."""
    index = ConversationIndex
    conditions = []
    if filters.date_from:
        conditions.append(index.last_at >= day_start(filters.date_from))
    if filters.date_to:
        conditions.append(index.last_at < day_start(filters.date_to + timedelta(days=1)))
    for name in ("channel", "outcome", "recommendation", "emergency", "human_requested"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(index, name) == value)
    if filters.fallback is True:
        conditions.append(or_(index.fallback.is_(True), index.low_confidence.is_(True)))
    elif filters.fallback is False:
        conditions.append(index.fallback.is_(False) & index.low_confidence.is_(False))
    if filters.review_status:
        conditions.append(review_status_column() == filters.review_status)
    if filters.text:
        conditions.append(index.search_text.like(like_pattern(filters.text), escape="\\"))
    if filters.live is not None:
        live = index.last_at >= live_since
        conditions.append(live if filters.live else ~live)
    return with_handoffs(statement, filters.handoff).where(*conditions)


def with_handoffs(statement: Select, handoff: str | None) -> Select:
    """Keep only conversations with an open handoff of the chosen kind (joined for sorting)."""
    if handoff is None:
        return statement
    status = OPEN_STATUSES if handoff == "any" else (handoff,)
    joined = and_(
        Handoff.conversation_id == ConversationIndex.conversation_id, Handoff.status.in_(status)
    )
    return statement.join(Handoff, joined)  # one open handoff per conversation at most


def ordering(filters: InboxFilters) -> list[Any]:
    """Newest last message first; under the handoff filter, waiting requests before the rest."""
    newest = [ConversationIndex.last_at.desc(), ConversationIndex.conversation_id]
    if filters.handoff is None:
        return newest
    return [case((Handoff.status == "waiting", 0), else_=1), *newest]


def base_query(*columns: Any) -> Select:
    """A select over the index, outer-joined with the review status."""
    joined = ConversationReview.conversation_id == ConversationIndex.conversation_id
    return select(*columns).select_from(ConversationIndex).outerjoin(ConversationReview, joined)


def list_conversations(
    session: Session,
    filters: InboxFilters,
    *,
    page: int = 1,
    per_page: int = 25,
    live_since: datetime | None = None,
) -> InboxPage:
    """One page of matching conversations, in `ordering`, with tags and handoff states.

    Conversations whose last message is at or after `live_since` are live (default: the
    `handoff_live_minutes` setting before now).
    """
    if page < 1:
        raise ValueError(f"page: must be 1 or more, not {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page: must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    since = live_since or default_live_since()
    total = session.scalar(filtered(base_query(func.count()), filters, since)) or 0
    rows = session.execute(
        filtered(base_query(ConversationIndex, review_status_column()), filters, since)
        .order_by(*ordering(filters))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = inbox_rows(session, [(index, status) for index, status in rows], since)
    return InboxPage(items, total, page, max(1, ceil(total / per_page)), per_page)


def inbox_rows(
    session: Session, rows: list[tuple[ConversationIndex, str]], live_since: datetime
) -> list[InboxRow]:
    """InboxRows of (index row, review status) pairs, with tags, live and handoff states."""
    ids = [index.conversation_id for index, _ in rows]
    tags, handoffs = tags_for(session, ids), handoff_states(session, ids)
    return [
        to_row(
            index,
            status,
            tags.get(index.conversation_id, []),
            live=index.last_at >= live_since,
            handoff=handoffs.get(index.conversation_id),
        )
        for index, status in rows
    ]


def tags_for(session: Session, conversation_ids: list[str]) -> dict[str, list[str]]:
    """{conversation id: sorted tags} for these conversations."""
    if not conversation_ids:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(conversation_ids))
        .order_by(ConversationTag.tag)
    )
    for conversation_id, tag in rows:
        found[conversation_id].append(tag)
    return found


def handoff_states(session: Session, conversation_ids: list[str]) -> dict[str, HandoffState]:
    """{conversation id: its open handoff} for these conversations (one query)."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(Handoff.conversation_id, Handoff.status, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == Handoff.claimed_by_id)
        .where(Handoff.conversation_id.in_(conversation_ids), Handoff.status.in_(OPEN_STATUSES))
    )
    return {
        conversation_id: HandoffState(status, name if status == "claimed" else None)
        for conversation_id, status, name in rows
    }


def to_row(
    index: ConversationIndex,
    status: str,
    tags: list[str],
    *,
    live: bool = False,
    handoff: HandoffState | None = None,
) -> InboxRow:
    """An InboxRow from an index row (its columns of the same names) and the other facts."""
    columns = {f.name: getattr(index, f.name) for f in fields(InboxRow) if f.name not in EXTRA}
    return InboxRow(**columns, review_status=status, tags=tags, live=live, handoff=handoff)
