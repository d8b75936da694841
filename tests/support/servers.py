"""Start the real Rasa and action servers for end-to-end tests and benchmarks."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "pilot-rock.tar.gz"
SPACY = ROOT / "var" / "spacy" / "en_pilotrock" / "meta.json"
TOKEN = "e2e-test-token"
STARTUP_SECONDS = 240


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation tracker, read through the token-protected HTTP API."""
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict[str, Any]:
        """NLU parse of a text through the HTTP API."""
        response = requests.post(
            f"{self.rasa_url}/model/parse",
            params={"token": self.token},
            json={"text": text},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def wait_until(url: str, processes: list[subprocess.Popen], deadline: float) -> None:
    """Poll a URL until it answers 200, failing early if a server process died."""
    while time.monotonic() < deadline:
        for proc in processes:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[-1]} exited early with code {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {STARTUP_SECONDS}s")


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a server log, for failure messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


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
    for command in (["db", "upgrade"], ["availability", "seed"]):
        subprocess.run([sys.executable, "-m", "bot", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
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
        deadline = time.monotonic() + STARTUP_SECONDS
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        try:
            wait_until(f"http://127.0.0.1:{actions_port}/health", processes, deadline)
            wait_until(f"{rasa_url}/status?token={TOKEN}", processes, deadline)
        except (RuntimeError, TimeoutError) as error:
            tails = {name: log_tail(workdir / f"{name}.log") for name in logs}
            raise RuntimeError(f"{error}\n{tails}") from error
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
