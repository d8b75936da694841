"""The open live pages as the feed knows them: who asked, for what, and how to reach them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Deliver = Callable[[str | None], bool]  # hands a page a frame (None: the end); False: page gone


class PushUnavailableError(Exception):
    """The feed cannot take a page now (the database is away, or the app is stopping)."""


@dataclass(frozen=True)
class Ticket:
    """What the permission check allowed: who follows which conversation, after which event."""

    conversation_id: str
    personal: bool  # may see personal details (else the page gets the masked view)
    user_id: int
    user_name: str
    after: int = 0  # the newest event id the page already shows


@dataclass(eq=False)
class Subscriber:
    """One open page."""

    ticket: Ticket
    deliver: Deliver
    shown: tuple[str, str] = ("", "")  # the takeover state (key, text) the page was last sent

    @property
    def masked(self) -> bool:
        """Whether the page gets the masked view."""
        return not self.ticket.personal


@dataclass(frozen=True)
class Opening:
    """A stream just opened: its subscriber and the first frame its page is sent."""

    subscriber: Subscriber
    first: str
