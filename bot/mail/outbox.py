"""The outbox worker: sends queued emails, retries with backoff, never logs their content.

The same process applies the live-takeover time limits (bot.handoff.watcher).
"""

import logging
import random
import signal
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.core.health import serve_health
from bot.core.settings import get_settings
from bot.db.models import OutboxMessage, utcnow
from bot.db.session import session_factory as default_session_factory
from bot.handoff import watcher as handoff_limits
from bot.mail.mailer import SmtpConfig, build_message, config_from_env, send

log = logging.getLogger("bot.mail.outbox")  # not __main__ under `python -m`

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
JITTER = 0.1  # up to +10 % on each delay, so retries of a burst spread out
LEASE = timedelta(minutes=10)  # a claimed message is retried after this if the worker dies
ERROR_LIMIT = 500
STALE_AFTER = 120.0  # seconds without a finished pass before /health says unhealthy

SessionFactory = Callable[[], Session]


@dataclass
class DeliveryReport:
    """What one pass did: counts only, never recipients or contents."""

    sent: int = 0
    retried: int = 0  # failed this time, scheduled again
    failed: int = 0  # gave up after the last allowed attempt
    skipped: int = 0  # due but left pending because SMTP is not configured
    smtp_configured: bool = True


@dataclass(frozen=True)
class _Claimed:
    """A message taken out of the queue for one send attempt (no ORM state attached)."""

    id: int
    attempts: int
    recipient: str
    subject: str
    body_text: str
    attachment_name: str | None
    attachment: str | None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay after the `attempts`-th failure: 1 min doubling per attempt, capped at 1 h, +jitter."""
    delay = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * (1 + (rng or random).uniform(0, JITTER))


def deliver_due(
    session_factory: SessionFactory,
    config: SmtpConfig | None,
    now: datetime | None = None,
    batch: int = 20,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """Send up to `batch` pending messages that are due; without SMTP leave them for staff."""
    if config is None:
        return DeliveryReport(skipped=count_due(session_factory, now), smtp_configured=False)
    report = DeliveryReport()
    for claimed in _claim(session_factory, now or utcnow(), batch):
        try:
            message = build_message(
                config.sender,
                claimed.recipient,
                claimed.subject,
                claimed.body_text,
                claimed.attachment_name,
                claimed.attachment,
            )
            send(config, message)
        except Exception as error:  # one bad message or a relay outage must not stop the rest
            if _record_failure(session_factory, claimed, error, now, max_attempts):
                report.failed += 1
            else:
                report.retried += 1
        else:
            _record_sent(session_factory, claimed.id, now)
            report.sent += 1
    return report


def count_due(session_factory: SessionFactory, now: datetime | None = None) -> int:
    """How many pending messages are due now."""
    query = select(func.count(OutboxMessage.id)).where(*_due(now or utcnow()))
    with session_factory() as session:
        return int(session.scalar(query) or 0)


class Heartbeat:
    """When the worker last finished a pass, for its health check."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start counting from now (a worker that has just started is not yet late)."""
        self.clock = clock
        self.last = clock()

    def beat(self) -> None:
        """Record a finished pass."""
        self.last = self.clock()

    def age(self) -> float:
        """Seconds since the last finished pass."""
        return self.clock() - self.last


def run_forever(
    session_factory: SessionFactory,
    config: SmtpConfig | None,
    interval: float = 15,
    stop: threading.Event | None = None,
    heartbeat: Heartbeat | None = None,
) -> None:
    """Deliver due messages every `interval` seconds until `stop` is set; logs counts only."""
    stop = stop or threading.Event()
    heartbeat = heartbeat or Heartbeat()
    waiting = 0
    while not stop.is_set():
        try:
            report = deliver_due(session_factory, config)
        except Exception as error:  # the database may be briefly unreachable: try again later
            log.error("outbox pass failed: %s", type(error).__name__)
            log.debug("outbox pass failed", exc_info=True)
            stop.wait(interval)
            continue
        heartbeat.beat()
        if report.sent or report.retried or report.failed:
            log.info(
                "outbox: %d sent, %d to retry, %d failed",
                report.sent,
                report.retried,
                report.failed,
            )
        if not report.smtp_configured and report.skipped != waiting:
            log.warning("SMTP is not configured: %d message(s) wait for staff", report.skipped)
        waiting = report.skipped
        busy = report.sent + report.retried + report.failed
        if busy == 0 or not report.smtp_configured:
            stop.wait(interval)


def _due(now: datetime) -> tuple[ColumnElement, ColumnElement]:
    """WHERE clauses of messages that are pending and due at `now`."""
    return OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now


def _claim(session_factory: SessionFactory, now: datetime, batch: int) -> list[_Claimed]:
    """Take due messages, leasing them so no other worker sends them meanwhile."""
    query = (
        select(OutboxMessage)
        .where(*_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        for row in rows:
            row.next_attempt_at = now + LEASE
        return [
            _Claimed(
                row.id,
                row.attempts,
                row.recipient,
                row.subject,
                row.body_text,
                row.attachment_name,
                row.attachment,
            )
            for row in rows
        ]


def _record_sent(session_factory: SessionFactory, message_id: int, now: datetime | None) -> None:
    """Mark a message sent."""
    with session_factory() as session, session.begin():
        row = session.get(OutboxMessage, message_id)
        if row is None:  # deleted by staff meanwhile
            return
        row.status = "sent"
        row.sent_at = now or utcnow()
        row.last_error = None


def _record_failure(
    session_factory: SessionFactory,
    claimed: _Claimed,
    error: Exception,
    now: datetime | None,
    max_attempts: int,
) -> bool:
    """Count a failed attempt and schedule a retry; True if this was the last attempt."""
    attempts = claimed.attempts + 1
    gave_up = attempts >= max_attempts
    at = now or utcnow()
    with session_factory() as session, session.begin():
        row = session.get(OutboxMessage, claimed.id)
        if row is not None:
            row.attempts = attempts
            row.last_error = describe(error)
            row.status = "failed" if gave_up else "pending"
            row.next_attempt_at = at if gave_up else at + backoff(attempts)
    log.warning(
        "outbox message %d: attempt %d failed (%s), %s",
        claimed.id,
        attempts,
        type(error).__name__,
        "giving up" if gave_up else "will retry",
    )
    return gave_up


def describe(error: Exception) -> str:
    """A short, storable description of a send error (SMTP code and server text)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
        summary = f"{type(error).__name__}: {code} {_text(text)}"
    elif isinstance(error, smtplib.SMTPResponseException):
        summary = f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    else:
        summary = f"{type(error).__name__}: {error}"
    return summary[:ERROR_LIMIT]


def _text(value: bytes | str) -> str:
    """A server reply as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def health_check(
    session_factory: SessionFactory, heartbeat: Heartbeat, stale_after: float = STALE_AFTER
) -> Callable[[], dict]:
    """The worker's health: the database answers and a pass finished within `stale_after` s."""

    def check() -> dict:
        with session_factory() as session:
            session.execute(text("SELECT 1"))
        age = round(heartbeat.age(), 1)
        return {"ok": age <= stale_after, "database": "ok", "last_pass_seconds_ago": age}

    return check


def start_health(session_factory: SessionFactory, heartbeat: Heartbeat) -> None:
    """Serve GET /health on OUTBOX_HEALTH_PORT; a taken port is logged, never fatal."""
    port = get_settings().outbox_health_port
    try:
        serve_health(port, health_check(session_factory, heartbeat))
    except OSError as error:
        log.error("outbox health endpoint not served on port %d: %s", port, error.strerror)


def main() -> None:
    """Run the worker on DATABASE_URL with SMTP_* settings until SIGTERM or Ctrl-C."""
    logging.basicConfig(
        level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    config = config_from_env()
    sessions, heartbeat = default_session_factory(), Heartbeat()
    start_health(sessions, heartbeat)
    handoff_limits.start(sessions, stop)  # takeovers nobody answers fall back to a call back
    log.info("outbox worker started (SMTP %s)", "configured" if config else "not configured")
    try:
        run_forever(sessions, config, stop=stop, heartbeat=heartbeat)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
