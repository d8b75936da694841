"""The outbox worker against a real local SMTP server, on SQLite and PostgreSQL."""

import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from itertools import pairwise
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.booking.invites import booking_invite
from bot.core.settings import Settings
from bot.db.models import OutboxMessage
from bot.db.repository import enqueue_message
from bot.mail.mailer import SmtpConfig, config_from_env
from bot.mail.outbox import (
    BASE_DELAY,
    JITTER,
    LEASE,
    MAX_ATTEMPTS,
    MAX_DELAY,
    DeliveryReport,
    _claim,
    backoff,
    deliver_due,
    run_forever,
)

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)
SENDER = "calls@pilotrock.example"
RECIPIENT = "sam@example.com"
SUBJECT = "Your Pilot Rock intro call"
BODY = "Your call is booked. Reference PR-7KQ4M2."
STARTS = datetime(2030, 3, 4, 16, 0, tzinfo=timezone.utc)


class Recorder:
    """An aiosmtpd handler that refuses the first `refuse` messages, then keeps the rest."""

    def __init__(self, refuse: int = 0) -> None:
        """Start with no messages."""
        self.refuse = refuse
        self.attempts = 0
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Refuse with a temporary error, or record the message."""
        self.attempts += 1
        if self.attempts <= self.refuse:
            return "451 try again"
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        """The received messages, parsed."""
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(port: int, **changes: Any) -> SmtpConfig:
    """A plain-SMTP config for a local test server."""
    options = {"host": "127.0.0.1", "port": port, "use_starttls": False, "sender": SENDER}
    return SmtpConfig(**(options | {"timeout": 5.0} | changes))


@pytest.fixture
def smtp() -> Iterator[Callable[..., int]]:
    """Start aiosmtpd servers with a given handler; returns their port. Stopped afterwards."""
    controllers: list[Controller] = []

    def start(handler: Recorder, **options: Any) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


def enqueue(make_session: sessionmaker, send_after: datetime = NOW, **fields: Any) -> int:
    """Queue a confirmation email with an .ics invite; returns its id."""
    ics = booking_invite(
        "PR-7KQ4M2", STARTS, STARTS + timedelta(minutes=15), SENDER, RECIPIENT, "Sam Rivera"
    )
    values = {
        "kind": "booking_confirmation",
        "recipient": RECIPIENT,
        "subject": SUBJECT,
        "body_text": BODY,
        "attachment_name": "intro-call.ics",
        "attachment": ics.decode("utf-8"),
    }
    with make_session() as session, session.begin():
        return enqueue_message(session, send_after=send_after, **(values | fields)).id


def load(make_session: sessionmaker, message_id: int) -> OutboxMessage:
    """The message row as it is now."""
    with make_session() as session:
        return session.get(OutboxMessage, message_id)


def test_sends_the_email_with_its_invite(make_session: sessionmaker, smtp: Callable) -> None:
    recorder = Recorder()
    message_id = enqueue(make_session)

    report = deliver_due(make_session, config(smtp(recorder)), now=NOW)

    assert report == DeliveryReport(sent=1)
    [envelope] = recorder.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT]
    [email] = recorder.messages()
    assert email["Subject"] == SUBJECT
    assert email["To"] == RECIPIENT
    assert email.get_body(("plain",)).get_content().strip() == BODY
    [invite] = list(email.iter_attachments())
    assert invite.get_content_type() == "text/calendar"
    assert invite.get_param("method") == "REQUEST"
    assert invite.get_filename() == "intro-call.ics"
    calendar = Calendar.from_ical(invite.get_payload(decode=True))
    assert calendar.walk("VEVENT")[0]["UID"] == "PR-7KQ4M2@intake.pilotrock"
    row = load(make_session, message_id)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 0, NOW, None)

    again = deliver_due(make_session, config(smtp(recorder)), now=NOW + timedelta(hours=1))
    assert again == DeliveryReport()
    assert len(recorder.envelopes) == 1


def test_temporary_refusals_are_retried_with_backoff(
    make_session: sessionmaker, smtp: Callable
) -> None:
    recorder = Recorder(refuse=2)
    smtp_config = config(smtp(recorder))
    message_id = enqueue(make_session)

    assert deliver_due(make_session, smtp_config, now=NOW) == DeliveryReport(retried=1)
    row = load(make_session, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error and "try again" in row.last_error
    assert NOW + BASE_DELAY <= row.next_attempt_at <= NOW + BASE_DELAY * (1 + JITTER)
    first_retry = row.next_attempt_at

    early = first_retry - timedelta(seconds=1)
    assert deliver_due(make_session, smtp_config, now=early) == DeliveryReport()
    assert recorder.attempts == 1

    assert deliver_due(make_session, smtp_config, now=first_retry) == DeliveryReport(retried=1)
    row = load(make_session, message_id)
    assert row.attempts == 2
    delay = row.next_attempt_at - first_retry
    assert 2 * BASE_DELAY <= delay <= 2 * BASE_DELAY * (1 + JITTER)

    report = deliver_due(make_session, smtp_config, now=row.next_attempt_at)
    assert report == DeliveryReport(sent=1)
    assert recorder.attempts == 3
    assert len(recorder.envelopes) == 1
    row = load(make_session, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_unreachable_server_keeps_the_message(
    make_session: sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = enqueue(make_session)
    caplog.set_level(logging.DEBUG, logger="bot")

    report = deliver_due(make_session, config(free_port()), now=NOW)

    assert report == DeliveryReport(retried=1)
    row = load(make_session, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > NOW
    assert (row.recipient, row.subject, row.body_text) == (RECIPIENT, SUBJECT, BODY)
    assert row.attachment.startswith("BEGIN:VCALENDAR")
    assert "ConnectionRefusedError" in caplog.text
    for secret in (RECIPIENT, SUBJECT, BODY, "Sam Rivera"):
        assert secret not in caplog.text


def test_without_smtp_messages_wait_for_staff(make_session: sessionmaker) -> None:
    message_id = enqueue(make_session)
    enqueue(make_session, send_after=NOW + timedelta(days=1))

    report = deliver_due(make_session, None, now=NOW)

    assert report == DeliveryReport(skipped=1, smtp_configured=False)
    row = load(make_session, message_id)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "pending",
        0,
        NOW,
        None,
    )


def test_gives_up_after_max_attempts(make_session: sessionmaker) -> None:
    message_id = enqueue(make_session)
    unreachable = config(free_port())
    at, delays = NOW, []

    for attempt in range(1, MAX_ATTEMPTS):
        assert deliver_due(make_session, unreachable, now=at) == DeliveryReport(retried=1)
        row = load(make_session, message_id)
        assert (row.status, row.attempts) == ("pending", attempt)
        delays.append(row.next_attempt_at - at)
        at = row.next_attempt_at

    assert deliver_due(make_session, unreachable, now=at) == DeliveryReport(failed=1)
    row = load(make_session, message_id)
    assert (row.status, row.attempts, row.sent_at) == ("failed", MAX_ATTEMPTS, None)
    assert row.last_error
    later = at + timedelta(days=1)
    assert deliver_due(make_session, unreachable, now=later) == DeliveryReport()
    assert all(shorter < longer for shorter, longer in pairwise(delays))
    assert MAX_DELAY <= delays[-1] <= MAX_DELAY * (1 + JITTER)


def test_fewer_attempts_can_be_allowed(make_session: sessionmaker) -> None:
    message_id = enqueue(make_session)
    report = deliver_due(make_session, config(free_port()), now=NOW, max_attempts=1)
    assert report == DeliveryReport(failed=1)
    assert load(make_session, message_id).status == "failed"


def test_only_due_messages_in_batches(make_session: sessionmaker, smtp: Callable) -> None:
    recorder = Recorder()
    smtp_config = config(smtp(recorder))
    for _ in range(3):
        enqueue(make_session)
    later = enqueue(make_session, send_after=NOW + timedelta(minutes=5))

    assert deliver_due(make_session, smtp_config, now=NOW, batch=2) == DeliveryReport(sent=2)
    assert deliver_due(make_session, smtp_config, now=NOW, batch=2) == DeliveryReport(sent=1)
    assert deliver_due(make_session, smtp_config, now=NOW, batch=2) == DeliveryReport()
    assert load(make_session, later).status == "pending"
    assert len(recorder.envelopes) == 3


def test_starttls_required_but_not_offered_is_not_sent_in_clear(
    make_session: sessionmaker, smtp: Callable
) -> None:
    recorder = Recorder()
    message_id = enqueue(make_session)

    report = deliver_due(make_session, config(smtp(recorder), use_starttls=True), now=NOW)

    assert report == DeliveryReport(retried=1)
    assert "SMTPNotSupportedError" in load(make_session, message_id).last_error
    assert recorder.envelopes == []


def test_logs_in_when_credentials_are_given(make_session: sessionmaker, smtp: Callable) -> None:
    recorder, logins = Recorder(), []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        """Accept one user and remember who logged in."""
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    port = smtp(recorder, authenticator=authenticator, auth_require_tls=False)
    enqueue(make_session)

    smtp_config = config(port, username="mailer", password="s3cret")
    assert deliver_due(make_session, smtp_config, now=NOW) == DeliveryReport(sent=1)
    assert logins == [(b"mailer", b"s3cret")]
    assert "s3cret" not in repr(smtp_config)


def test_concurrent_workers_send_each_message_once(
    make_session: sessionmaker, smtp: Callable
) -> None:
    recorder = Recorder()
    smtp_config = config(smtp(recorder))
    ids = {enqueue(make_session, subject=f"message {n}") for n in range(12)}
    reports: list[DeliveryReport] = []

    def worker() -> None:
        reports.append(deliver_due(make_session, smtp_config, now=NOW, batch=5))

    for _ in range(2):
        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sum(report.sent for report in reports) == 12
    assert sorted(m["Subject"] for m in recorder.messages()) == sorted(
        f"message {n}" for n in range(12)
    )
    with make_session() as session:
        query = select(OutboxMessage.status).where(OutboxMessage.id.in_(ids))
        assert set(session.scalars(query)) == {"sent"}


def test_locked_rows_are_skipped_on_postgresql(make_session: sessionmaker, smtp: Callable) -> None:
    if make_session.kw["bind"].dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are a PostgreSQL feature")
    smtp_config = config(smtp(Recorder()))
    message_id = enqueue(make_session)

    with make_session() as holder, holder.begin():
        locked = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
        holder.execute(locked)
        assert deliver_due(make_session, smtp_config, now=NOW) == DeliveryReport()

    assert deliver_due(make_session, smtp_config, now=NOW) == DeliveryReport(sent=1)


def test_run_forever_sends_and_logs_counts_only(
    make_session: sessionmaker, smtp: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    recorder = Recorder()
    enqueue(make_session, send_after=datetime.now(timezone.utc) - timedelta(seconds=1))
    stop = threading.Event()
    worker = threading.Thread(
        target=run_forever, args=(make_session, config(smtp(recorder))), kwargs={"stop": stop}
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not recorder.envelopes and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)

    assert not worker.is_alive()
    assert len(recorder.envelopes) == 1
    assert "1 sent" in caplog.text
    for secret in (RECIPIENT, SUBJECT, BODY):
        assert secret not in caplog.text


def test_run_forever_without_smtp_warns_once(
    make_session: sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    enqueue(make_session, send_after=datetime.now(timezone.utc) - timedelta(seconds=1))
    stop = threading.Event()
    worker = threading.Thread(
        target=run_forever, args=(make_session, None), kwargs={"interval": 0.02, "stop": stop}
    )
    worker.start()
    time.sleep(0.3)
    stop.set()
    worker.join(timeout=10)

    warnings = [r for r in caplog.records if "not configured" in r.getMessage()]
    assert len(warnings) == 1
    assert "1 message(s)" in warnings[0].getMessage()


def test_backoff_doubles_and_is_capped() -> None:
    rng = random.Random(7)
    for attempts, minutes in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (8, 60), (30, 60)]:
        delay = backoff(attempts, rng)
        base = timedelta(minutes=minutes)
        assert base <= delay <= base * (1 + JITTER)


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SMTP_* are read through the settings: environment variables win over .env."""
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMTP_SENDER", "")
    assert config_from_env(Settings(_env_file=None)) is None
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    assert config_from_env(Settings(_env_file=None)) is None
    for name, value in {
        "SMTP_PORT": "2525",
        "SMTP_USERNAME": "mailer",
        "SMTP_PASSWORD": "s3cret",
        "SMTP_STARTTLS": "false",
        "SMTP_SENDER": SENDER,
    }.items():
        monkeypatch.setenv(name, value)
    loaded = config_from_env(Settings(_env_file=None))
    assert "s3cret" not in repr(Settings(_env_file=None))
    assert loaded == SmtpConfig(
        host="smtp.example.org",
        port=2525,
        username="mailer",
        password="s3cret",
        use_starttls=False,
        sender=SENDER,
        timeout=30.0,
    )


def test_a_message_claimed_by_a_dead_worker_is_sent_after_the_lease(
    make_session: sessionmaker, smtp: Callable
) -> None:
    recorder = Recorder()
    smtp_config = config(smtp(recorder))
    message_id = enqueue(make_session)
    [claimed] = _claim(make_session, NOW, batch=20)  # a worker took it, then died
    assert claimed.id == message_id

    assert deliver_due(make_session, smtp_config, now=NOW + LEASE / 2) == DeliveryReport()
    assert deliver_due(make_session, smtp_config, now=NOW + LEASE) == DeliveryReport(sent=1)
    assert len(recorder.envelopes) == 1
