"""What the live feed's thread holds and does: the followed conversations, reads and pushes.

Only the feed's thread touches a Follower (`bot.staff.push.feed` hands it the pages' commands).
Each followed conversation (`Watch`) has one view per kind of page (personal or masked,
`ChatView`) that turns each new event into chat lines once; every page of that kind is handed the
same frame. The takeover state is read for the followed conversations together, after their
events and every `STATE_EVERY` seconds, and each page is sent its own wording when it changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.handoffs import OPEN_STATUSES, Handoff
from bot.rasa.events import StoredEvent, to_event
from bot.staff.chat import FORMER, LiveState, staff_names, state_for
from bot.staff.push.chat_view import ChatView, lead_details, seeded_view, touches_lead
from bot.staff.push.frames import DOWN, RECONNECT, messages_frame, ready_frame, state_frame
from bot.staff.push.subscribers import Deliver, Opening, Subscriber, Ticket
from bot.staff.push.tail import EventTail

log = logging.getLogger("bot.staff.push")

STATE_EVERY = 2.0  # seconds between reads of the takeover state of every followed conversation
LINGER = 15.0  # seconds a conversation stays followed after its last page closed (reconnects)


@dataclass(eq=False)
class Watch:
    """A conversation that open pages follow: its views, its pages and its takeover state."""

    conversation_id: str
    views: dict[bool, ChatView] = field(default_factory=dict)  # masked? -> view
    subscribers: list[Subscriber] = field(default_factory=list)
    handoff: Handoff | None = None
    holder: str = ""  # who holds a claimed handoff
    idle_since: float | None = None  # when its last page closed

    def state_for(self, subscriber: Subscriber) -> LiveState:
        """The takeover state in the words of one page's staff member."""
        ticket = subscriber.ticket
        return state_for(self.handoff, self.holder, ticket.user_id, ticket.user_name)


class Follower:
    """The followed conversations and the tail of the events table, for one run of the thread."""

    def __init__(self, sessions: sessionmaker) -> None:
        """Read through `sessions` (a reader that takes no write lock)."""
        self.sessions = sessions
        self.tail = EventTail()
        self.started = False
        self.watches: dict[str, Watch] = {}
        self.reads = 0
        self.state_at = 0.0

    def start(self, session: Session) -> None:
        """Stand at the newest event (once per run)."""
        if not self.started:
            self.tail.start(session)
            self.started = True

    def open(self, session: Session, ticket: Ticket, deliver: Deliver) -> Opening:
        """Register a page: its conversation followed, its view seeded, its first frame."""
        self.start(session)
        watch = self.watches.setdefault(ticket.conversation_id, Watch(ticket.conversation_id))
        self.read_states(session, [watch.conversation_id])  # as fresh as the page just shown
        subscriber = Subscriber(ticket, deliver)
        view = watch.views.get(subscriber.masked) or self.seed(session, watch, subscriber.masked)
        state = watch.state_for(subscriber)
        subscriber.shown = (state.key, state.text)
        first = ready_frame(max(ticket.after, view.newest), view.since(ticket.after), state)
        watch.subscribers.append(subscriber)
        return Opening(subscriber, first)

    def seed(self, session: Session, watch: Watch, masked: bool) -> ChatView:
        """A conversation's view of one kind, from its events up to the tail's position."""
        view = seeded_view(session, watch.conversation_id, masked, self.tail.position)
        watch.views[masked] = view
        return view

    def close(self, subscriber: Subscriber) -> None:
        """Let a page go."""
        watch = self.watches.get(subscriber.ticket.conversation_id)
        if watch is not None and subscriber in watch.subscribers:
            watch.subscribers.remove(subscriber)

    def forget(self, conversation_id: str) -> None:
        """Stop following a conversation; its pages are asked to reconnect."""
        watch = self.watches.pop(conversation_id, None)
        for subscriber in watch.subscribers if watch else []:
            subscriber.deliver(RECONNECT)
            subscriber.deliver(None)

    def figures(self) -> dict[str, int]:
        """How many pages and conversations are followed."""
        pages = sum(len(watch.subscribers) for watch in self.watches.values())
        return {"pages": pages, "conversations": len(self.watches)}

    def linger(self, now: float) -> bool:
        """Drop conversations without pages for LINGER seconds; whether any is left."""
        for conversation_id, watch in list(self.watches.items()):
            if watch.subscribers:
                watch.idle_since = None
            elif watch.idle_since is None:
                watch.idle_since = now
            elif now - watch.idle_since > LINGER:
                del self.watches[conversation_id]
        return bool(self.watches)

    def read(self, now: float) -> None:
        """Read new events once for every page; on a database failure, tell the pages."""
        if not self.watches:
            return
        try:
            with self.sessions() as session:
                self.start(session)
                rows = self.tail.read(session, now)
                self.reads += 1
                changed = self.dispatch(session, rows)
                self.check_states(session, changed, now)
        except Exception as error:  # the database is away or failing: pages poll meanwhile
            self.fail(error)

    def dispatch(self, session: Session, rows: list[Any]) -> set[str]:
        """Push the new events of followed conversations; the ids of those that had any."""
        events: dict[str, list[StoredEvent]] = {}
        for row in rows:
            if row.sender_id in self.watches:
                events.setdefault(row.sender_id, []).append(to_event(row))
        for conversation_id, new in events.items():
            self.push(session, self.watches[conversation_id], new)
        return set(events)

    def push(self, session: Session, watch: Watch, events: list[StoredEvent]) -> None:
        """Turn new events into lines once per view and hand them to that view's pages."""
        for masked, view in watch.views.items():
            if masked and touches_lead(events):
                view.learn(lead_details(session, watch.conversation_id))
            lines = view.add(events)
            if lines:
                pages = [s for s in watch.subscribers if s.masked == masked]
                send(watch, pages, messages_frame(view.newest, lines))

    def check_states(self, session: Session, changed: set[str], now: float) -> None:
        """Read the takeover state of changed conversations (of all, every STATE_EVERY s)."""
        if now >= self.state_at:
            self.state_at = now + STATE_EVERY
            changed = set(self.watches)
        if changed:
            self.read_states(session, sorted(changed))

    def read_states(self, session: Session, conversation_ids: list[str]) -> None:
        """Read these conversations' takeover state; tell each page whose wording changed."""
        handoffs, holders = open_handoffs(session, conversation_ids)
        for conversation_id in conversation_ids:
            watch = self.watches[conversation_id]
            watch.handoff = handoffs.get(conversation_id)
            watch.holder = holders.get(conversation_id, "")
            for subscriber in list(watch.subscribers):
                send_state(watch, subscriber)

    def fail(self, error: Exception) -> None:
        """Tell every page the feed is down and forget them (they poll, and reconnect later)."""
        log.warning("live feed: reading new events failed (%s)", type(error).__name__)
        self.end(DOWN)

    def end(self, last: str | None = None) -> None:
        """End every page's stream (after a `last` frame) and forget the conversations."""
        for watch in self.watches.values():
            for subscriber in watch.subscribers:
                if last is not None:
                    subscriber.deliver(last)
                subscriber.deliver(None)
        self.watches.clear()


def send_state(watch: Watch, subscriber: Subscriber) -> None:
    """Send a page the takeover state if it changed for it."""
    state = watch.state_for(subscriber)
    if (state.key, state.text) != subscriber.shown:
        subscriber.shown = (state.key, state.text)
        send(watch, [subscriber], state_frame(state))


def send(watch: Watch, pages: list[Subscriber], text: str) -> None:
    """Hand one frame to pages; pages that have gone are dropped."""
    for subscriber in pages:
        if not subscriber.deliver(text) and subscriber in watch.subscribers:
            watch.subscribers.remove(subscriber)


def open_handoffs(
    session: Session, conversation_ids: list[str]
) -> tuple[dict[str, Handoff], dict[str, str]]:
    """The open handoff of each conversation that has one, and who holds each claimed one."""
    rows = session.scalars(
        select(Handoff).where(
            Handoff.conversation_id.in_(conversation_ids), Handoff.status.in_(OPEN_STATUSES)
        )
    ).all()
    names = staff_names(session, [row.claimed_by_id for row in rows])
    holders = {
        row.conversation_id: names.get(row.claimed_by_id, FORMER)
        for row in rows
        if row.claimed_by_id is not None
    }
    return {row.conversation_id: row for row in rows}, holders
