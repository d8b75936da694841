"""Where a turn's CPU goes: the product's Agent in this process, each stage timed.

`profile_figures()` runs `python -m bench.profile` in a fresh process whose environment is set
before anything is imported, as `python -m bot run-rasa` sets it (one TensorFlow, BLAS and
OpenMP thread). That process loads the Agent with the project's run-time patches, its tracker
and lock stores on a temporary SQLite database and its action endpoint at an action server
started for it, then drives the assessments of tests/e2e/conversations_in_words.yml through
`agent.handle_message`, as the REST channel does: once plain (the CPU per message) and once with
every stage timed (`bench.stages`, which costs a little CPU of its own).
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.profile_table import BUCKETS, print_table, summary
from bench.stages import Profiler
from bench.stats import mean
from bench.targets import install_timers
from bench.visits import drive, is_payload, outcome_line, plans
from tests.support.servers import (
    MODEL,
    ROOT,
    Awaited,
    Watched,
    answers,
    free_port,
    popen_stopped,
    wait_ready,
)

THREADS = dict.fromkeys(
    (
        "TF_INTRA_OP_PARALLELISM_THREADS",
        "TF_INTER_OP_PARALLELISM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    ),
    "1",
)
CHILD = "BENCH_PROFILE_PROCESS"  # set in the environment of the process that profiles
OUTSIDE = "Rasa, outside these stages (tracker updates, slots, ...)"


def product_env(workdir: Path, actions_port: int) -> dict[str, str]:
    """The settings the product's servers get in tests/support/servers.py, for this process."""
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite:///{workdir / 'profile.db'}",
        "ACTION_SERVER_PORT": str(actions_port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "MODEL_PATH": str(MODEL),
        "LOG_LEVEL": "WARNING",
        "RUN_DIR": str(workdir),
        "TELEGRAM_TOKEN": "",
    }


def profile_figures() -> dict[str, float]:
    """Run the profile in a fresh process; the CPU figures it found (ms per message)."""
    print("== Per-stage profile: the product's Agent in process, one message at a time ==")
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as workdir:
        summary = Path(workdir) / "summary.json"
        env = os.environ | product_env(Path(workdir), free_port()) | THREADS | {CHILD: "1"}
        subprocess.run(
            [sys.executable, "-m", "bench.profile", str(summary)], cwd=ROOT, env=env, check=True
        )
        return json.loads(summary.read_text())


def prepare_database() -> None:
    """Create the temporary database's tables and the default availability, as the tests do."""
    for command in (["db", "upgrade"], ["availability", "seed"]):
        subprocess.run(
            [sys.executable, "-m", "bot", *command], cwd=ROOT, check=True, capture_output=True
        )


@contextmanager
def action_server(workdir: Path) -> Iterator[None]:
    """`python -m bot run-actions` on ACTION_SERVER_PORT, without this process's thread limits."""
    port = os.environ["ACTION_SERVER_PORT"]
    env = {k: v for k, v in os.environ.items() if k not in THREADS}
    log_path = workdir / "actions.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run-actions"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/health"
            ready = Awaited("actions", f"on :{port}/health", lambda: answers(url))
            wait_ready([ready], [Watched("actions", popen_stopped(process), log_path)], 240)
            yield
        finally:
            process.terminate()
            process.wait(timeout=20)


def configure_logging() -> None:
    """Rasa's logging and structlog at LOG_LEVEL, as `rasa run` configures them."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(None)


def load_agent(loop: asyncio.AbstractEventLoop) -> Any:
    """The product's Agent, with the project's patches, as `python -m bot run-rasa` loads it."""
    from rasa.core.agent import load_agent as rasa_load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.tensorflow.environment import setup_tf_environment

    from bot.rasa import runtime

    setup_tf_environment()
    runtime.install()
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    start = time.perf_counter()
    agent = loop.run_until_complete(rasa_load_agent(model_path=str(MODEL), endpoints=endpoints))
    if not agent.is_ready():
        raise RuntimeError(f"the model at {MODEL} did not load")
    print(f"  Agent loaded in {time.perf_counter() - start:.0f} s", flush=True)
    return agent


class InProcess:
    """Sends messages straight to the Agent as the REST channel would; records CPU per message."""

    def __init__(self, agent: Any, loop: asyncio.AbstractEventLoop, profiler: Profiler) -> None:
        """Drive `agent` on `loop`, the stages timed by `profiler` when its wrappers are on."""
        self.agent, self.loop, self.profiler = agent, loop, profiler
        self.cpu: dict[str, list[float]] = {bucket: [] for bucket in BUCKETS}

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Handle one message; its replies."""
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        bucket = "payload" if is_payload(text) else "text"
        message = UserMessage(
            text, CollectingOutputChannel(), sender, input_channel="rest", metadata=metadata
        )
        self.profiler.bucket = bucket
        start = time.process_time()
        with self.profiler.stage(OUTSIDE, group=""):
            replies = self.loop.run_until_complete(self.agent.handle_message(message))
        self.cpu[bucket].append((time.process_time() - start) * 1000)
        return replies or []

    def clear(self) -> None:
        """Forget what was measured so far, and the encoder's cached sentences: each pass sends
        the same texts, which real visitors do not."""
        from bot.intake import sentence_encoder

        self.cpu = {bucket: [] for bucket in BUCKETS}
        self.profiler.totals.clear()
        sentence_encoder.clear_cache()


def run_pass(driver: InProcess, name: str) -> None:
    """Every assessment once, with progress."""
    driver.clear()
    start = time.perf_counter()
    outcomes = drive(driver.send, name)
    count, took = sum(len(v) for v in driver.cpu.values()), time.perf_counter() - start
    print(f"  {name}: {count} messages in {took:.0f} s; {outcome_line(outcomes)}", flush=True)


def main() -> None:
    """Load the Agent, warm it up, measure a plain pass and a timed pass; print the table."""
    configure_logging()
    workdir = Path(os.environ["RUN_DIR"])
    prepare_database()
    with action_server(workdir):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        profiler = Profiler()
        driver = InProcess(load_agent(loop), loop, profiler)
        chosen = plans()
        drive(driver.send, "warm", [chosen[0], next(p for p in chosen if p.books)])
        run_pass(driver, "plain pass")
        plain = {bucket: mean(values) for bucket, values in driver.cpu.items()}
        restore = install_timers(profiler)
        run_pass(driver, "timed pass")
        for undo in reversed(restore):
            undo()
        print_table(profiler, {bucket: len(cpu) for bucket, cpu in driver.cpu.items()})
        figures = summary(plain, driver.cpu)
        Path(sys.argv[1]).write_text(json.dumps(figures))
        close_pooled_sessions(loop)


def close_pooled_sessions(loop: asyncio.AbstractEventLoop) -> None:
    """Close the action server's pooled HTTP sessions, as the server does when it stops."""
    from bot.rasa.runtime.pooled_http import close_sessions

    loop.run_until_complete(close_sessions())
    loop.close()


if __name__ == "__main__":
    if os.environ.get(CHILD):
        main()
    else:
        profile_figures()
