"""The anchor: the product beside a stock `rasa init` bot, on the same machine and Rasa.

The stock bot is Rasa's own starter project (default config: DIET, TED and the rest; in-memory
tracker and lock stores; no action server), created and trained in a temporary folder and
served by `rasa run --enable-api` with one Sanic worker and Rasa's default thread settings.
The product runs as one Rasa process with one Sanic worker (RASA_WORKERS=1), SQLite, the action
server and the forms. Both get the same short assessment script over the REST webhook at the
same concurrency, in interleaved rounds (product, stock, product, stock, ...), so a slow moment
of a shared machine falls on both. The stock bot does not understand the script; it answers it.
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.cpu import ONE_WORKER
from bench.profile import THREADS
from bench.stats import (
    child_running,
    latency_summary,
    percentile,
    process_tree,
    resident_mib,
    tree_cpu_seconds,
)
from bench.visits import SCRIPT
from bot.rasa.runtime.delivery import TRY_AGAIN
from tests.support.assessment import text_of
from tests.support.servers import (
    Awaited,
    Servers,
    Watched,
    answers,
    free_port,
    popen_stopped,
    running_servers,
    wait_ready,
)

RASA = str(Path(sys.executable).with_name("rasa"))


@dataclass
class Round:
    """One round against one server: round-trip times (ms), its length, errors, Rasa CPU."""

    times: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    cpu_seconds: float = 0.0
    actions_seconds: float = 0.0

    @property
    def throughput(self) -> float:
        """Messages answered per second of the round."""
        return len(self.times) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """The round's figures in one line."""
        count = max(1, len(self.times))
        actions = (
            f" + actions {1000 * self.actions_seconds / count:.0f}" if self.actions_seconds else ""
        )
        return (
            f"{self.throughput:5.1f} msg/s, {latency_summary(self.times)}, "
            f"CPU Rasa {1000 * self.cpu_seconds / count:.0f}{actions} ms/msg, "
            f"{self.errors} errors"
        )


@dataclass
class Served:
    """A server under test, and its action server's pid (0: it has none)."""

    server: Servers
    actions_pid: int = 0

    def cpu(self) -> tuple[float, float]:
        """CPU seconds of the Rasa server and of its action server so far."""
        actions = tree_cpu_seconds(self.actions_pid) if self.actions_pid else 0.0
        return tree_cpu_seconds(self.server.rasa_pid), actions


def stock_env() -> dict[str, str]:
    """This environment with Rasa's defaults: no thread limits, one Sanic worker, no telemetry."""
    env = {k: v for k, v in os.environ.items() if k not in THREADS}
    return env | {"SANIC_WORKERS": "1", "RASA_TELEMETRY_ENABLED": "false"}


def create_stock_bot(folder: Path) -> None:
    """`rasa init --no-prompt` in `folder`: Rasa's starter project, trained there (timed)."""
    print(f"  rasa init --no-prompt in {folder} (creates and trains the starter bot) ...")
    start = time.perf_counter()
    run = [RASA, "init", "--no-prompt"]
    subprocess.run(run, cwd=folder, env=stock_env(), check=True, capture_output=True)
    if not list((folder / "models").glob("*.tar.gz")):  # an init that no longer trains
        subprocess.run([RASA, "train"], cwd=folder, env=stock_env(), check=True)
    print(f"  stock bot trained in {time.perf_counter() - start:.0f} s", flush=True)


@contextmanager
def stock_server(folder: Path) -> Iterator[Servers]:
    """The stock bot served by `rasa run --enable-api` on a free port, one process."""
    port, log_path = free_port(), folder / "rasa.log"
    command = [RASA, "run", "--enable-api", "--port", str(port), "--model", "models"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=folder, env=stock_env(), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            ready = Awaited("stock", f"on :{port}/status", lambda: answers(f"{url}/status"))
            wait_ready([ready], [Watched("stock", popen_stopped(process), log_path)], 240)
            yield Servers(rasa_url=url, database_url="", rasa_pid=process.pid)
        finally:
            process.terminate()
            process.wait(timeout=20)


def conversation(server: Servers) -> Round:
    """The script once as a new visitor, each message with a message id; its times and errors."""
    sender, result = f"anchor-{uuid.uuid4().hex[:10]}", Round()
    for text in SCRIPT:
        start = time.perf_counter()
        try:
            replies = server.send(sender, text, {"message_id": uuid.uuid4().hex})
            result.errors += TRY_AGAIN in text_of(replies)
        except requests.RequestException:
            result.errors += 1
        result.times.append((time.perf_counter() - start) * 1000)
    return result


def run_round(served: Served, conversations: int, concurrency: int) -> Round:
    """`conversations` runs of the script, `concurrency` at a time."""
    (rasa, actions), start = served.cpu(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        runs = pool.map(lambda _: conversation(served.server), range(conversations))
        result = merged(list(runs))
    result.seconds = time.perf_counter() - start
    rasa_after, actions_after = served.cpu()
    result.cpu_seconds, result.actions_seconds = rasa_after - rasa, actions_after - actions
    return result


def merged(rounds: list[Round]) -> Round:
    """All rounds of one server as one."""
    return Round(
        [t for r in rounds for t in r.times],
        sum(r.seconds for r in rounds),
        sum(r.errors for r in rounds),
        sum(r.cpu_seconds for r in rounds),
        sum(r.actions_seconds for r in rounds),
    )


def compare(servers: dict[str, Served], rounds: int, conversations: int, concurrency: int) -> None:
    """Interleaved rounds against each server, each printed, then the totals and the ratios."""
    results: dict[str, list[Round]] = {name: [] for name in servers}
    for served in servers.values():
        conversation(served.server)  # warm-up
    for number in range(1, rounds + 1):
        for name, served in servers.items():
            results[name].append(run_round(served, conversations, concurrency))
            print(f"  round {number} {name:<7}: {results[name][-1].line()}", flush=True)
    product, stock = merged(results["product"]), merged(results["stock"])
    print(f"  all rounds, product: {product.line()}")
    print(f"  all rounds, stock  : {stock.line()}")
    print(f"anchor at {concurrency} concurrent: {ratios(product, stock, results)}")


def p95(result: Round) -> float:
    """The 95th percentile of a round's round-trip times."""
    return percentile(result.times, 95)


def ratios(product: Round, stock: Round, results: dict[str, list[Round]]) -> str:
    """Product/stock throughput and product p95 / stock p95, overall and the rounds' range."""
    pairs = list(zip(results["product"], results["stock"], strict=True))
    speed = [p.throughput / s.throughput for p, s in pairs]
    tail = [p95(p) / p95(s) for p, s in pairs]
    return (
        f"product/stock throughput {product.throughput / stock.throughput:.2f} "
        f"(rounds {min(speed):.2f}-{max(speed):.2f}), product p95 / stock p95 "
        f"{p95(product) / p95(stock):.2f} (rounds {min(tail):.2f}-{max(tail):.2f})"
    )


def memory_line(servers: dict[str, Served]) -> str:
    """Resident memory of each Rasa server process tree."""
    sizes = {n: sum(map(resident_mib, process_tree(s.server.rasa_pid))) for n, s in servers.items()}
    return ", ".join(f"{name} {size:.0f} MiB" for name, size in sizes.items())


def anchor_figures(rounds: int = 3, conversations: int = 30, concurrency: int = 10) -> None:
    """Train and serve the stock bot, serve the product, compare them over REST."""
    print("== Anchor: the product against a stock `rasa init` bot (one Sanic worker each) ==")
    with tempfile.TemporaryDirectory(prefix="bench-anchor-") as workdir:
        folder = Path(workdir) / "stock"
        folder.mkdir()
        create_stock_bot(folder)
        with (
            running_servers(Path(workdir), ONE_WORKER) as product,
            stock_server(folder) as stock,
        ):
            servers = {
                "product": Served(product, child_running("run actions")),
                "stock": Served(stock),
            }
            print(
                f"  {rounds} rounds each, {conversations} conversations of {len(SCRIPT)} "
                f"messages per round, {concurrency} at a time",
                flush=True,
            )
            compare(servers, rounds, conversations, concurrency)
            print(f"  resident memory: {memory_line(servers)}")
