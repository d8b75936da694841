"""After the soak: what the databases hold, checked against what the visitors were told."""

import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine

from bench.soak.visitors import Ledger
from tests.support.cluster import stored_message_ids

DUPLICATE_EVENTS = text(
    "SELECT COUNT(*) FROM (SELECT sender_id, type_name, timestamp, data, COUNT(*) AS n "
    "FROM events WHERE sender_id IN :senders GROUP BY sender_id, type_name, timestamp, data "
    "HAVING COUNT(*) > 1) AS doubled"
).bindparams(bindparam("senders", expanding=True))
BOOKINGS = text(
    "SELECT l.conversation_id, b.reference, b.status, "
    "(SELECT COUNT(*) FROM outbox_messages o WHERE o.booking_id = b.id "
    " AND o.kind = 'booking_confirmation') AS emails "
    "FROM bookings b JOIN leads l ON l.id = b.lead_id WHERE l.conversation_id IN :senders"
).bindparams(bindparam("senders", expanding=True))
INDEX_GAPS = text(
    "SELECT COUNT(*) FROM (SELECT e.sender_id, MAX(e.id) AS newest FROM events e "
    "WHERE e.sender_id IN :senders GROUP BY e.sender_id) AS latest "
    "LEFT JOIN conversation_index i ON i.conversation_id = latest.sender_id "
    "WHERE i.last_event_id IS NULL OR i.last_event_id <> latest.newest"
).bindparams(bindparam("senders", expanding=True))


@dataclass
class Findings:
    """What the databases say about the run."""

    lost: int = 0  # successful messages missing from their tracker
    duplicated: int = 0  # messages recorded more than once, or events stored twice
    out_of_order: int = 0  # conversations whose successful messages are stored out of order
    bookings_told: int = 0
    bookings_found: int = 0  # told bookings present exactly once, confirmed, with their email
    untold_bookings: int = 0  # bookings nobody was told about
    index_gaps: int = 0  # conversations whose index row lags their tracker
    locks_held: int = 0
    lost_ids: list[str] = field(default_factory=list)  # client message ids, for the report

    @property
    def consistent(self) -> bool:
        """Nothing lost, doubled, reordered or left behind."""
        return not (
            self.lost
            or self.duplicated
            or self.out_of_order
            or self.untold_bookings
            or self.index_gaps
            or self.locks_held
            or self.bookings_found != self.bookings_told
        )


def check_messages(findings: Findings, ledger: Ledger, engine: Engine) -> None:
    """Every successful message stored once, in the order it was sent."""
    senders = sorted(ledger.senders)
    stored = stored_message_ids(engine, senders)
    for sender in senders:
        sent = [s.message_id for s in ledger.sent if s.sender == sender]
        counts = Counter(stored.get(sender, []))
        missing = [m for m in sent if counts[m] == 0]
        findings.lost += len(missing)
        findings.lost_ids += missing
        findings.duplicated += sum(n - 1 for m, n in counts.items() if m and n > 1)
        positions = [stored[sender].index(m) for m in sent if counts[m]]
        findings.out_of_order += positions != sorted(positions)
    with engine.connect() as db:
        findings.duplicated += db.execute(DUPLICATE_EVENTS, {"senders": senders}).scalar_one()


def check_bookings(findings: Findings, ledger: Ledger, engine: Engine) -> None:
    """Every booking a visitor was told about exists once with its email; no others."""
    with engine.connect() as db:
        rows = db.execute(BOOKINGS, {"senders": sorted(ledger.senders)}).all()
    by_reference = Counter(row.reference for row in rows)
    told = set(ledger.told_bookings.values())
    findings.bookings_told = len(told)
    for row in rows:
        if row.reference not in told:
            findings.untold_bookings += 1
        elif by_reference[row.reference] == 1 and row.status == "confirmed" and row.emails == 1:
            findings.bookings_found += 1


def check_index(findings: Findings, ledger: Ledger, engine: Engine, wait: float) -> None:
    """The index matches the trackers (waiting up to `wait` seconds for the consumer)."""
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as db:
            gaps = db.execute(INDEX_GAPS, {"senders": sorted(ledger.senders)}).scalar_one()
        if not gaps or time.monotonic() > deadline:
            findings.index_gaps = gaps
            return
        time.sleep(1)


def check_locks(findings: Findings, ledger: Ledger, redis_url: str) -> None:
    """No conversation lock still held by a live ticket."""
    from bot.rasa.runtime.lock_store import RedisTicketLockStore

    store = RedisTicketLockStore(url=redis_url)
    for sender in ledger.senders:
        lock = store.get_lock(sender)
        if lock is not None:
            lock.remove_expired_tickets()
            findings.locks_held += bool(lock.tickets)


def verify(ledger: Ledger, database_url: str, redis_url: str, index_wait: float = 60.0) -> Findings:
    """Run every check."""
    engine = create_engine(database_url, pool_pre_ping=True)
    findings = Findings()
    check_messages(findings, ledger, engine)
    check_bookings(findings, ledger, engine)
    check_index(findings, ledger, engine, index_wait)
    check_locks(findings, ledger, redis_url)
    engine.dispose()
    return findings
