"""A production-profile cluster of its own (fresh database, queue, ports): started, faulted."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from xmlrpc.client import ServerProxy

import requests
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from supervisor.xmlrpc import SupervisorTransport

from bot.paths import ROOT

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
PORT_NAMES = (
    "RASA_PORT", "ACTION_SERVER_PORT", "RASA_REPLICA_1_PORT", "RASA_REPLICA_2_PORT",
    "ACTIONS_REPLICA_1_PORT", "ACTIONS_REPLICA_2_PORT", "HAPROXY_STATS_PORT", "WEB_PORT",
    "STAFF_PORT", "INDEXER_HEALTH_PORT", "OUTBOX_HEALTH_PORT",
)  # fmt: skip


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_version() -> str:
    """The one PostgreSQL cluster version installed (the folder under /etc/postgresql)."""
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]


class Cluster:
    """Two Rasa replicas and two action servers behind HAProxy, on a fresh database."""

    def __init__(self, workdir: Path) -> None:
        """Plan the cluster's ports, database, queue and key prefix (nothing started yet)."""
        tag = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.ports = {name: str(free_port()) for name in PORT_NAMES}
        self.database = f"pilotrock_soak_{tag}"
        self.database_url = f"{POSTGRES}/{self.database}"
        self.env = {
            **os.environ, **self.ports,
            "RASA_ENDPOINTS": "endpoints.cluster.yml",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
            "EVENT_QUEUE": f"pilotrock-soak-{tag}",
            "RUN_DIR": str(workdir),
            "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """HAProxy's Rasa frontend."""
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    def command(self, *args: str) -> None:
        """Run `python -m bot ARGS` with the cluster's environment."""
        subprocess.run([sys.executable, "-m", "bot", *args], env=self.env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    def start(self, timeout: float = 600) -> None:
        """Services up, a fresh migrated database, every process healthy behind HAProxy."""
        subprocess.run(["bash", str(ROOT / "deploy" / "services.sh")], check=True,
                       env={**self.env, "PG_DATABASE": self.database}, stdout=subprocess.DEVNULL)
        self.command("db", "upgrade")
        self.command("availability", "seed")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "supervise", "cluster"], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.wait_healthy(timeout)

    def replica_urls(self) -> list[str]:
        """Every replica's health URL."""
        p = self.ports
        return [f"http://127.0.0.1:{p['RASA_REPLICA_1_PORT']}/",
                f"http://127.0.0.1:{p['RASA_REPLICA_2_PORT']}/",
                f"http://127.0.0.1:{p['ACTIONS_REPLICA_1_PORT']}/health",
                f"http://127.0.0.1:{p['ACTIONS_REPLICA_2_PORT']}/health",
                f"http://127.0.0.1:{p['INDEXER_HEALTH_PORT']}/health"]  # fmt: skip

    def wait_healthy(self, timeout: float) -> None:
        """Block until every replica answers its health check."""
        deadline = time.monotonic() + timeout
        pending = self.replica_urls()
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not healthy after {timeout:.0f} s: {pending}")
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"supervisord exited; logs in {self.workdir / 'log'}")
            pending = [url for url in pending if not healthy(url)]
            time.sleep(1)

    def supervisor(self) -> ServerProxy:
        """supervisord's XML-RPC interface over its unix socket."""
        sock = f"unix://{self.workdir / 'run' / 'supervisor.sock'}"
        return ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, sock))

    def kill(self, program: str) -> None:
        """kill -9 one supervised program (supervisord restarts it)."""
        pid = self.supervisor().supervisor.getProcessInfo(program)["pid"]
        os.kill(pid, signal.SIGKILL)

    def haproxy(self, command: str) -> str:
        """One command on HAProxy's admin socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.workdir / "run" / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            return sock.recv(65536).decode()

    def stop(self, drop_database: bool = True) -> None:
        """Stop every process and drop the soak database (unless kept for inspection)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        if not drop_database:
            print(f"  database kept: {self.database_url}")
            return
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'],
                       check=False, stdout=subprocess.DEVNULL)  # fmt: skip


USER_EVENTS = text(
    "SELECT sender_id, data FROM events WHERE type_name = 'user' "
    "AND sender_id IN :senders ORDER BY sender_id, id"
).bindparams(bindparam("senders", expanding=True))


def stored_message_ids(engine: Engine, senders: list[str]) -> dict[str, list[str]]:
    """Each conversation's user messages' client ids (`message_id` metadata), in stored order."""
    stored: dict[str, list[str]] = defaultdict(list)
    with engine.connect() as db:
        for sender, data in db.execute(USER_EVENTS, {"senders": senders}):
            stored[sender].append((json.loads(data).get("metadata") or {}).get("message_id"))
    return stored


def healthy(url: str) -> bool:
    """Whether `url` answers 200 right now."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def restart_postgresql() -> None:
    """Restart the machine's PostgreSQL (fast shutdown: every connection is dropped)."""
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main",
                    "restart", "-m", "fast"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def restart_redis() -> None:
    """Restart Redis (it keeps nothing on disk here: every lock is gone afterwards)."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                    "--save", "", "--appendonly", "no"], check=True, stdout=subprocess.DEVNULL)


def restart_rabbitmq() -> None:
    """Stop the RabbitMQ node and start it again."""
    subprocess.run(["rabbitmqctl", "-q", "stop"], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(["rabbitmq-server", "-detached"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(["rabbitmqctl", "-q", "await_startup", "--timeout", "120"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
