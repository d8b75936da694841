"""`make soak`: 60 visitors for 5+ minutes through HAProxy while parts of the cluster fail.

Starts its own production-profile cluster (fresh PostgreSQL database, own queue and ports),
runs visitors over REST and Socket.IO, injects one fault per phase, then checks the databases
against what the visitors were told. Prints throughput and p95 per phase, single- versus
two-replica throughput, and last the line `soak: ...`; exits non-zero on any loss.
"""

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.soak.verify import Findings, verify
from bench.soak.visitors import (
    Ledger,
    RestClient,
    SocketClient,
    Visitor,
    conversations,
)
from tests.support import cluster as faults
from tests.support.cluster import STARTUP_SECONDS, Cluster
from tests.support.servers import StartupError


@dataclass
class Phase:
    """A stretch of the run, with the fault injected at its start (if any)."""

    name: str
    seconds: float
    fault: Callable[[Cluster], None] | None = None
    started: float = 0.0
    ended: float = 0.0


def phases(scale: float) -> list[Phase]:
    """Steady state, one replica, then one fault per phase, then steady again."""
    return [
        Phase("two replicas", 50 * scale),
        Phase("one replica", 40 * scale, lambda c: c.disable("rasa-2")),  # until rasa-1 serves
        Phase(
            "kill -9 rasa-1",
            50 * scale,  # rasa-2 serves again before rasa-1 dies
            lambda c: (c.enable("rasa-2"), c.kill("rasa-1")),
        ),
        Phase("kill -9 actions-1", 35 * scale, lambda c: c.kill("actions-1")),
        Phase("restart PostgreSQL", 40 * scale, lambda c: faults.restart_postgresql()),
        Phase("restart Redis", 35 * scale, lambda c: faults.restart_redis()),
        Phase("restart RabbitMQ", 45 * scale, lambda c: faults.restart_rabbitmq()),
        Phase("steady", 30 * scale),
    ]


async def visitor_loop(
    n: int,
    cluster: Cluster,
    ledger: Ledger,
    stop: asyncio.Event,
    http: aiohttp.ClientSession,
    think: tuple[float, float],
) -> None:
    """One seat: visitors one after another until the run stops; every fifth one books."""
    rng = random.Random(n)
    scripts = conversations()
    while not stop.is_set():
        sender = f"soak-{n}-{uuid.uuid4().hex[:10]}"
        client = (
            RestClient(http, cluster.url, sender) if n % 2 else SocketClient(cluster.url, sender)
        )
        visitor = Visitor(client, ledger, rng, think)
        try:
            await visitor.run(rng.choice(scripts), books=rng.random() < 0.2)
        except Exception as error:  # a visitor that could not go on: counted, next one sits
            ledger.errors.append((time.monotonic(), f"{client.kind}: {type(error).__name__}"))
            await asyncio.sleep(1)


async def run_phases(cluster: Cluster, plan: list[Phase], stop: asyncio.Event) -> None:
    """Walk through the phases, injecting each fault off the event loop."""
    for phase in plan:
        phase.started = time.monotonic()
        print(f"  phase: {phase.name}", flush=True)
        if phase.fault is not None:
            await asyncio.to_thread(phase.fault, cluster)
        await asyncio.sleep(max(0.0, phase.seconds - (time.monotonic() - phase.started)))
        phase.ended = time.monotonic()
    stop.set()


async def soak(cluster: Cluster, visitors: int, plan: list[Phase], drain: float) -> Ledger:
    """Run every seat through every phase, then let conversations in progress finish."""
    ledger, stop = Ledger(), asyncio.Event()
    # Socket.IO visitors block a thread each while they wait for replies.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(visitors + 8))
    connector = aiohttp.TCPConnector(limit=visitors)
    async with aiohttp.ClientSession(connector=connector) as http:
        seats = [
            asyncio.create_task(visitor_loop(n, cluster, ledger, stop, http, (2.0, 4.0)))
            for n in range(visitors)
        ]
        await run_phases(cluster, plan, stop)
        _, pending = await asyncio.wait(seats, timeout=drain)
        for task in pending:
            task.cancel()
    return ledger


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def report_phases(ledger: Ledger, plan: list[Phase]) -> dict[str, float]:
    """Print throughput, p95 latency, errors and recovery per phase; throughput by name."""
    print(
        f"\n  {'phase':<20} {'msgs':>6} {'msg/s':>7} {'p95 ms':>8} {'errors':>7} "
        f"{'recovered after':>16}"
    )
    rates = {}
    for phase in plan:
        done = [s for s in ledger.sent if phase.started <= s.started + s.latency < phase.ended]
        errors = [t for t, _ in ledger.errors if phase.started <= t < phase.ended]
        rate = len(done) / max(phase.ended - phase.started, 1e-9)
        rates[phase.name] = rate
        p95 = percentile([s.latency for s in done], 95) * 1000
        recovery = f"{max(errors) - phase.started:.1f} s" if errors and phase.fault else "-"
        print(
            f"  {phase.name:<20} {len(done):>6} {rate:>7.1f} {p95:>8.0f} {len(errors):>7} "
            f"{recovery:>16}"
        )
        when = [
            (t - phase.started, kind)
            for t, kind in ledger.errors
            if phase.started <= t < phase.ended
        ]
        if when:
            shown = ", ".join(f"{kind} at {offset:.0f} s" for offset, kind in when[:6])
            print(f"    {shown}{' ...' if len(when) > 6 else ''}")
    return rates


def summary_line(ledger: Ledger, findings: Findings) -> str:
    """The last line: totals, and 'consistent' only when every check held."""
    told = findings.bookings_told
    index = (
        "index consistent"
        if not findings.index_gaps
        else (f"index INCONSISTENT ({findings.index_gaps} conversations behind)")
    )
    return (
        f"soak: {len(ledger.sent)} messages, {len(ledger.errors)} errors, "
        f"{findings.lost} lost, {findings.duplicated} duplicated, "
        f"bookings {findings.bookings_found}/{told}, {index}"
    )


def report(ledger: Ledger, findings: Findings, plan: list[Phase]) -> None:
    """Print the figures, the checks and the summary line."""
    rates = report_phases(ledger, plan)
    one, two = rates.get("one replica", 0.0), rates.get("two replicas", 0.0)
    print(
        f"\n  throughput: one replica {one:.1f} msg/s, two replicas {two:.1f} msg/s "
        f"(x{two / one if one else 0:.2f})"
    )
    expected = sum(ledger.recommendations)
    print(
        f"  visitors: {len(ledger.senders)}, recommendations as scripted: "
        f"{expected}/{len(ledger.recommendations)}, retried messages: "
        f"{sum(1 for s in ledger.sent if s.attempts > 1)}, gave up: {ledger.gave_up}"
    )
    kinds: dict[str, int] = {}
    for _, kind in ledger.errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"  errors seen by visitors: {kinds or 'none'}")
    print(
        f"  checks: out of order {findings.out_of_order}, untold bookings "
        f"{findings.untold_bookings}, locks held {findings.locks_held}"
    )
    for message_id in findings.lost_ids[:10]:
        lost = next(s for s in ledger.sent if s.message_id == message_id)
        phase = next((p.name for p in plan if p.started <= lost.started < p.ended), "drain")
        print(
            f"  lost: {lost.sender} in phase '{phase}', {lost.attempts} attempt(s), "
            f"{lost.latency * 1000:.0f} ms"
        )
    print(summary_line(ledger, findings))


def started(cluster: Cluster) -> bool:
    """Start the cluster, saying what it waits for; False, with the failing log, if it fails."""
    print(
        f"  starting the cluster (two Rasa replicas load the model; gives up after "
        f"{STARTUP_SECONDS} s)...",
        flush=True,
    )
    try:
        cluster.start()
    except StartupError as error:
        print(f"soak: the cluster did not start: {error}", flush=True)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Start the cluster, soak it with faults, verify, report; non-zero on any loss."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--visitors", type=int, default=60)
    parser.add_argument("--scale", type=float, default=1.0, help="phase length factor")
    parser.add_argument("--keep-database", action="store_true", help="keep it to inspect")
    args = parser.parse_args(argv)
    plan = phases(args.scale)
    print(
        f"soak: {args.visitors} visitors, {sum(p.seconds for p in plan):.0f} s, "
        f"REST and Socket.IO through HAProxy",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        cluster = Cluster(Path(workdir))
        try:
            if not started(cluster):
                return 1
            ledger = asyncio.run(soak(cluster, args.visitors, plan, drain=120))
            findings = verify(ledger, cluster.database_url, cluster.env["REDIS_URL"])
        finally:
            cluster.stop(drop_database=not args.keep_database)
    report(ledger, findings, plan)
    return 0 if findings.consistent and not ledger.gave_up else 1


if __name__ == "__main__":
    sys.exit(main())
