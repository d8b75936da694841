"""What the index consumer has done since it started: counts for its log and health check."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.conversations.index import IndexChange

STALE_AFTER = 120.0  # seconds without a finished pass or reconciliation before health fails


@dataclass
class Figures:
    """Counts only: no conversation ids, no message texts."""

    source: str
    events: int = 0  # events (broker messages or table rows) applied
    redelivered: int = 0  # broker messages delivered again (after a crash or a reconnect)
    written: int = 0  # index rows written
    removed: int = 0  # index rows removed (the conversation's events are gone)
    current: int = 0  # conversations already indexed up to their newest event (duplicates)
    failed: int = 0  # conversations that could not be summarised (left to reconciliation)
    reconciliations: int = 0  # reconciliation passes finished
    reconciled: int = 0  # rows a reconciliation had to write or remove
    backlog: int = 0  # events waiting at the source
    pending: int = 0  # conversations whose announced event is not in the tracker store yet
    expired: int = 0  # pending conversations given up on (reconciliation is the backstop)
    source_ok: bool = False
    database_ok: bool = False
    last_beat: float = field(default_factory=time.monotonic)

    def applied(self, change: IndexChange) -> None:
        """Count one applied change."""
        self.written += change.written
        self.removed += change.removed
        self.current += change.current

    def beat(self) -> None:
        """Record that a pass or a reconciliation has just finished."""
        self.last_beat = time.monotonic()

    def health(self) -> dict:
        """The health check's answer: ok while the source and database answer and work goes on."""
        idle = round(time.monotonic() - self.last_beat, 1)
        return {
            "ok": self.source_ok and self.database_ok and idle <= STALE_AFTER,
            "source": self.source,
            "source_ok": self.source_ok,
            "database_ok": self.database_ok,
            "seconds_since_pass": idle,
            "events": self.events,
            "redelivered": self.redelivered,
            "rows_written": self.written,
            "rows_removed": self.removed,
            "already_indexed": self.current,
            "failed": self.failed,
            "reconciliations": self.reconciliations,
            "reconciled": self.reconciled,
            "backlog": self.backlog,
            "pending": self.pending,
            "expired": self.expired,
        }

    def summary(self) -> str:
        """One log line of counts."""
        return (
            f"{self.events} events, {self.written} rows written, {self.removed} removed, "
            f"{self.current} already indexed, {self.failed} failed, {self.reconciled} reconciled, "
            f"backlog {self.backlog}"
        )
