"""Rasa CPU per message end to end, as docs/deploy.md's Capacity section measures it.

One Rasa server with one Sanic worker (RASA_WORKERS=1), SQLite, the action server; the
assessments of tests/e2e/conversations_in_words.yml over REST, sequential, after two warm-up
conversations. CPU is `utime + stime` of each server's processes (/proc/<pid>/stat) read
around each message; the clock tick is 10 ms, so only the means over many messages count.
"""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import child_running, mean, percentile, tree_cpu_seconds
from bench.visits import Send, drive, is_payload, outcome_line, plans
from tests.support.servers import Servers, running_servers

ONE_WORKER = {"RASA_WORKERS": "1"}


@dataclass
class Sample:
    """One message: whether it was free text, Rasa's and the action server's CPU, latency (ms)."""

    text: bool
    rasa_ms: float
    actions_ms: float
    wall_ms: float


class Meter:
    """Sends through the REST webhook and records each message's CPU and latency."""

    def __init__(self, servers: Servers, actions_pid: int) -> None:
        """Measure the Rasa server's and the action server's process trees."""
        self.servers, self.actions_pid = servers, actions_pid
        self.samples: list[Sample] = []

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one message, reading both servers' CPU time before and after."""
        rasa, actions = tree_cpu_seconds(self.servers.rasa_pid), self.cpu_of_actions()
        start = time.perf_counter()
        replies = self.servers.send(sender, text, metadata)
        wall = time.perf_counter() - start
        self.samples.append(
            Sample(
                not is_payload(text),
                (tree_cpu_seconds(self.servers.rasa_pid) - rasa) * 1000,
                (self.cpu_of_actions() - actions) * 1000,
                wall * 1000,
            )
        )
        return replies

    def cpu_of_actions(self) -> float:
        """The action server's CPU seconds (0 if it was not found)."""
        return tree_cpu_seconds(self.actions_pid) if self.actions_pid else 0.0


def warm_up(send: Send) -> None:
    """Two whole conversations, not measured (one in words, one that books)."""
    chosen = plans()
    drive(send, "warm", [chosen[0], next(p for p in chosen if p.books)])


def report(samples: list[Sample]) -> dict[str, float]:
    """Print Rasa CPU per free-text message, per button payload and for the mix, the action
    server's and latency; return Rasa's per free-text message and per payload."""
    text = [s for s in samples if s.text]
    payload = [s for s in samples if not s.text]
    print(
        f"{len(samples)} messages: {len(text)} free text, {len(payload)} button payloads "
        f"({100 * len(text) / len(samples):.0f} % text)"
    )
    for name, group in (("free-text message", text), ("button payload", payload)):
        print(
            f"  Rasa CPU per {name:<16} {mean([s.rasa_ms for s in group]):6.1f} ms   "
            f"action server {mean([s.actions_ms for s in group]):4.1f} ms   latency mean "
            f"{mean([s.wall_ms for s in group]):5.1f} ms, "
            f"p95 {percentile([s.wall_ms for s in group], 95):5.1f} ms"
        )
    print(
        f"  Rasa CPU, this mix: {mean([s.rasa_ms for s in samples]):.1f} ms per message; "
        f"action server {mean([s.actions_ms for s in samples]):.1f} ms"
    )
    return {"text": mean([s.rasa_ms for s in text]), "payload": mean([s.rasa_ms for s in payload])}


def cpu_figures() -> dict[str, float]:
    """Start a one-worker product server, warm it up, measure the assessments sequentially."""
    print("== CPU per message, end to end (one Rasa process, one Sanic worker, SQLite) ==")
    with (
        tempfile.TemporaryDirectory(prefix="bench-cpu-") as workdir,
        running_servers(Path(workdir), ONE_WORKER) as servers,
    ):
        meter = Meter(servers, child_running("run actions"))
        if not meter.actions_pid:
            print("  (action server process not found: its CPU is not counted)")
        warm_up(meter.send)
        meter.samples.clear()
        print(f"  sending the {len(plans())} assessments of conversations_in_words.yml ...")
        start = time.perf_counter()
        outcomes = drive(meter.send, "cpu")
        print(
            f"  done in {time.perf_counter() - start:.0f} s: {outcome_line(outcomes)}", flush=True
        )
        return report(meter.samples)
