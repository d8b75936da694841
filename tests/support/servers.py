"""Start the real Rasa and action servers for end-to-end tests and benchmarks.

Also the harness's shared start-up pieces: one port allocator for the whole test process
(`free_ports`, `free_port`) and one start-up wait (`wait_ready`) that says what it waits for
and fails at once when a process it depends on has exited or could not bind its port.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "pilot-rock.tar.gz"
SPACY = ROOT / "var" / "spacy" / "en_pilotrock" / "meta.json"
TOKEN = "e2e-test-token"
STARTUP_SECONDS = 240
# What a process's log says when its port is taken (Python, Sanic/uvicorn, HAProxy).
BIND_FAILURES = ("address already in use", "cannot bind socket", "could not bind")
PROGRESS_SECONDS = 15  # how often a long wait says it is still waiting


class PortAllocator:
    """Hands out free TCP ports, never the same one twice in this process."""

    def __init__(self, host: str = "", max_skips: int = 1000) -> None:
        """Probe on `host` ("" = every interface, so no address of the port is in use)."""
        self.host, self.max_skips = host, max_skips
        self.handed_out: set[int] = set()
        self.lock = threading.Lock()

    def allocate(self, count: int) -> list[int]:
        """`count` distinct ports, chosen while every probe socket is still open."""
        with self.lock, ExitStack() as probes:
            chosen: list[int] = []
            for _ in range(count + self.max_skips):
                if len(chosen) == count:
                    break
                port = self.probe(probes)
                if port not in self.handed_out:  # else keep its probe open and take the next
                    chosen.append(port)
            if len(chosen) < count:
                raise RuntimeError(f"found {len(chosen)} of {count} free ports")
            self.handed_out.update(chosen)
            return chosen

    def probe(self, probes: ExitStack) -> int:
        """Bind one more socket to a port the kernel picks, kept open until `probes` closes."""
        sock = probes.enter_context(socket.socket())
        sock.bind((self.host, 0))
        return sock.getsockname()[1]


PORTS = PortAllocator()


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports nobody listens on, none handed out before in this process."""
    return PORTS.allocate(count)


def free_port() -> int:
    """One TCP port nobody listens on, not handed out before in this process."""
    return PORTS.allocate(1)[0]


def answers(url: str, timeout: float = 2) -> bool:
    """Whether GET `url` returns 200 now."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


class StartupError(RuntimeError):
    """A start-up that failed: a process exited, could not bind, or was not ready in time."""


@dataclass
class Watched:
    """A process a start-up depends on: its name, why it is gone (None: running), its log."""

    name: str
    stopped: Callable[[], str | None]
    log: Path | None = None


@dataclass
class Awaited:
    """One sign that a process is ready: the sign in words ("on :5012/status") and its check."""

    process: str
    sign: str
    ready: Callable[[], bool]

    def __str__(self) -> str:
        """The process and its sign, as the wait says them ("rasa-2 on :5012/status")."""
        return f"{self.process} {self.sign}"


def popen_stopped(process: subprocess.Popen) -> Callable[[], str | None]:
    """`Watched.stopped` for a process this test started."""
    return lambda: None if process.poll() is None else f"exited with code {process.returncode}"


def log_size(path: Path | None) -> int:
    """A log's current size (0 if there is none yet)."""
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


def new_log_text(path: Path | None, offset: int) -> str:
    """What a log got since it was `offset` bytes long."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def failure(process: Watched, offset: int) -> str | None:
    """Why a watched process cannot get ready (it exited, or could not bind), or None."""
    reason = process.stopped()
    if reason:
        return reason
    text = new_log_text(process.log, offset).lower()
    return next((f"its log says '{m}'" for m in BIND_FAILURES if m in text), None)


def failure_report(processes: Sequence[Watched], headline: str) -> str:
    """A failure message: the headline, then each process's log tail."""
    parts = [headline]
    for process in processes:
        tail = log_tail(process.log) if process.log and process.log.exists() else "(no log)"
        parts.append(f"--- {process.name} ({process.log}), last lines:\n{tail}")
    return "\n".join(parts)


def check_processes(processes: Sequence[Watched], offsets: dict[str, int]) -> None:
    """Raise StartupError, with its log tail, for the first process that cannot get ready."""
    for process in processes:
        reason = failure(process, offsets[process.name])
        if reason:
            raise StartupError(failure_report([process], f"{process.name} failed: {reason}"))


def say_line(line: str) -> None:
    """Print one progress line at once (the soak and `pytest -s` show it as it happens)."""
    print(line, flush=True)


def wait_ready(
    awaited: Sequence[Awaited],
    processes: Sequence[Watched],
    timeout: float,
    say: Callable[[str], None] = say_line,
    interval: float = 0.5,
) -> float:
    """Wait until every check holds; fail fast on a dead process; seconds it took."""
    start = time.monotonic()
    deadline, last_word = start + timeout, start
    offsets = {p.name: log_size(p.log) for p in processes}
    for item in awaited:
        say(f"  waiting for {item}")
    pending = list(awaited)
    while True:
        check_processes(processes, offsets)
        pending = [item for item in pending if not became_ready(item, start, say)]
        now = time.monotonic()
        if not pending:
            return now - start
        if now >= deadline:
            raise StartupError(timed_out(pending, processes, timeout))
        if now - last_word >= PROGRESS_SECONDS:
            say(
                f"  still waiting after {now - start:.0f} s (gives up at {timeout:.0f} s) for "
                + ", ".join(map(str, pending))
            )
            last_word = now
        time.sleep(min(interval, max(0.0, deadline - now)))


def became_ready(item: Awaited, start: float, say: Callable[[str], None]) -> bool:
    """Whether `item` is ready now (said once, with the time it took)."""
    if not item.ready():
        return False
    say(f"  ready after {time.monotonic() - start:.0f} s: {item}")
    return True


def timed_out(pending: Sequence[Awaited], processes: Sequence[Watched], timeout: float) -> str:
    """The message of a wait that ran out of time, with the log tails of what was not ready."""
    names = {item.process for item in pending}
    waiting = ", ".join(map(str, pending))
    late = [p for p in processes if p.name in names]
    return failure_report(late, f"not ready after {timeout:.0f} s: {waiting}")


def missing_prerequisites() -> str | None:
    """Why the servers cannot start here, or None."""
    if not MODEL.exists():
        return f"no trained model at {MODEL}: run `make train`"
    if not SPACY.exists():
        return "the spaCy pipeline is not built: run `make setup`"
    return None


@dataclass
class Servers:
    """A running Rasa server and action server, and how to talk to them."""

    rasa_url: str
    database_url: str
    rasa_pid: int = 0
    token: str = TOKEN

    def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict[str, Any]]:
        """Send one message over the REST channel and return the bot's replies."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        return self._call("POST", "/webhooks/rest/webhook", json=body)

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation tracker, read through the token-protected HTTP API."""
        return self._call("GET", f"/conversations/{sender}/tracker", params={"token": self.token})

    def parse(self, text: str) -> dict[str, Any]:
        """NLU parse of a text through the HTTP API."""
        return self._call("POST", "/model/parse", params={"token": self.token}, json={"text": text})

    def _call(self, method: str, path: str, **options: Any) -> Any:
        """One HTTP request to the Rasa server; its JSON answer (an error status raises)."""
        response = requests.request(method, f"{self.rasa_url}{path}", timeout=30, **options)
        response.raise_for_status()
        return response.json()


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a server log, for failure messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def prepare_database(env: dict[str, str]) -> None:
    """What `make run` does first: migrate the database of `env` and seed the availability."""
    for command in (["db", "upgrade"], ["availability", "seed"]):
        subprocess.run(
            [sys.executable, "-m", "bot", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )


@contextmanager
def running_servers(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Servers]:
    """Start both servers on free ports with their own SQLite database under `workdir`."""
    rasa_port, actions_port = free_port(), free_port()
    database_url = f"sqlite:///{workdir / 'e2e.db'}"
    env = (
        os.environ
        | {
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "RASA_PORT": str(rasa_port),
            "ACTION_SERVER_PORT": str(actions_port),
            "RASA_API_TOKEN": TOKEN,
            "MODEL_PATH": str(MODEL),
            "REST_CHANNEL_ENABLED": "true",
            "LOG_LEVEL": "WARNING",
            "RUN_DIR": str(workdir),
            # Telegram off unless a test turns it on (a developer's .env must not leak in).
            "TELEGRAM_TOKEN": "",
            "TELEGRAM_SECRET_TOKEN": "",
            "TELEGRAM_BASE_URL": "",
            "TELEGRAM_WEBHOOK_URL": "",
            "TELEGRAM_BOT_USERNAME": "",
        }
        | (extra_env or {})
    )
    prepare_database(env)
    logs = {name: (workdir / f"{name}.log").open("w") for name in ("actions", "rasa")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", f"run-{name}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for name, log in logs.items()
    ]
    try:
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        watched = [
            Watched(name, popen_stopped(proc), workdir / f"{name}.log")
            for name, proc in zip(logs, processes, strict=True)
        ]
        awaited = [
            Awaited(
                "actions",
                f"on :{actions_port}/health",
                lambda: answers(f"http://127.0.0.1:{actions_port}/health"),
            ),
            Awaited(
                "rasa",
                f"on :{rasa_port}/status",
                lambda: answers(f"{rasa_url}/status?token={TOKEN}"),
            ),
        ]
        wait_ready(awaited, watched, STARTUP_SECONDS)
        yield Servers(rasa_url=rasa_url, database_url=database_url, rasa_pid=processes[1].pid)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
