"""One conversation's chat lines as one kind of page sees them, kept current event by event.

There are two kinds of view: "personal" (roles allowed to see personal details) and "masked"
(everyone else). Each new event is turned into chat lines once per kind of view, not once per
page: every page of that kind is sent the same lines. A masked view carries what masking needs
from earlier events (`RunningMask`): the personal values seen so far, the lead's details and the
lead-form question open last.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.masking import PERSONAL_SLOTS, RunningMask, lead_values
from bot.conversations.transcript import build_transcript
from bot.db.models import Lead
from bot.rasa.events import StoredEvent, events_table, to_event
from bot.staff.chat import ChatItem, chat_items

MAX_LINES = 2000  # lines kept per view for pages that (re)connect; the oldest go first
LEAD_SLOTS = PERSONAL_SLOTS | {"lead_id"}  # slots whose change may mean new lead details


class ChatView:
    """The chat lines of one conversation for one kind of view, in event order."""

    def __init__(self, masked: bool, known: Iterable[str] = ()) -> None:
        """An empty view; a masked one starts from the `known` personal values."""
        self.mask = RunningMask(known) if masked else None
        self.lines: list[ChatItem] = []
        self.seen: set[int] = set()  # event ids already added (a re-read event comes once)
        self.newest = 0  # the newest event id added

    @property
    def masked(self) -> bool:
        """Whether this view masks personal details."""
        return self.mask is not None

    def add(self, events: list[StoredEvent]) -> list[ChatItem]:
        """The chat lines of new events (masked if the view masks), kept for later pages."""
        events = [event for event in events if event.id not in self.seen]
        if not events:
            return []
        self.seen.update(event.id for event in events)
        self.newest = max(self.newest, events[-1].id)
        transcript = build_transcript(events)
        items = self.mask.mask(transcript) if self.mask else transcript.items
        lines = chat_items(items)
        self.lines = (self.lines + lines)[-MAX_LINES:]
        return lines

    def learn(self, values: Iterable[str]) -> None:
        """Mask these personal values too from now on (a masked view only)."""
        if self.mask is not None:
            self.mask.learn(values)

    def since(self, after: int) -> list[ChatItem]:
        """The kept lines of events after event id `after`."""
        return [line for line in self.lines if line.id > after]


def seeded_view(session: Session, conversation_id: str, masked: bool, up_to: int) -> ChatView:
    """A view of the conversation's events up to id `up_to`."""
    view = ChatView(masked, lead_details(session, conversation_id) if masked else ())
    view.add(events_up_to(session, conversation_id, up_to))
    return view


def events_up_to(session: Session, conversation_id: str, up_to: int) -> list[StoredEvent]:
    """The conversation's events with an id up to `up_to`, oldest first."""
    rows = session.execute(
        select(events_table)
        .where(events_table.c.sender_id == conversation_id, events_table.c.id <= up_to)
        .order_by(events_table.c.id)
    )
    return [to_event(row) for row in rows]


def lead_details(session: Session, conversation_id: str) -> list[str]:
    """The personal details of the conversation's leads (masked wherever they appear)."""
    leads = session.scalars(select(Lead).where(Lead.conversation_id == conversation_id))
    return lead_values(leads)


def touches_lead(events: Iterable[StoredEvent]) -> bool:
    """Whether the events set a slot that may mean a new or changed lead."""
    return any(e.type_name == "slot" and e.data.get("name") in LEAD_SLOTS for e in events)
