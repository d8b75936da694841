"""A production-profile cluster of its own (fresh database, queue, ports): started, faulted.

Its eleven ports come from one allocation (tests/support/servers.py), so no two are the same.
The start-up and every wait for a state a fault test needs use `wait_ready`: it says what it
waits for, fails at once when a supervised program exited or could not bind its port (with that
program's log tail) and gives up after STARTUP_SECONDS in total.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import xmlrpc.client
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from xmlrpc.client import ServerProxy

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from supervisor.xmlrpc import SupervisorTransport

from bot.core.paths import ROOT
from bot.core.settings import Settings
from tests.support.servers import (
    Awaited,
    StartupError,
    Watched,
    answers,
    free_ports,
    popen_stopped,
    wait_ready,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
PORT_NAMES = (
    "RASA_PORT",
    "ACTION_SERVER_PORT",
    "RASA_REPLICA_1_PORT",
    "RASA_REPLICA_2_PORT",
    "ACTIONS_REPLICA_1_PORT",
    "ACTIONS_REPLICA_2_PORT",
    "HAPROXY_STATS_PORT",
    "WEB_PORT",
    "STAFF_PORT",
    "INDEXER_HEALTH_PORT",
    "OUTBOX_HEALTH_PORT",
)
STARTUP_SECONDS = 180  # a whole cluster start (services, database, every program) gives up then
STATE_SECONDS = 60  # how long a fault test waits for HAProxy or RabbitMQ to reach a state
SERVERS = {"rasa": ("rasa-1", "rasa-2"), "actions": ("actions-1", "actions-2")}
PROGRAMS = ("haproxy", *SERVERS["rasa"], *SERVERS["actions"], "outbox", "indexer", "web", "staff")
# supervisord states that fail a wait: any exit during a start; later, while supervisord may be
# restarting a program a test killed or a service restart upset, only giving up on it.
STOPPED = ("EXITED", "BACKOFF", "FATAL")
GAVE_UP = ("FATAL",)
REPLICA_PORTS = {
    "rasa-1": "RASA_REPLICA_1_PORT",
    "rasa-2": "RASA_REPLICA_2_PORT",
    "actions-1": "ACTIONS_REPLICA_1_PORT",
    "actions-2": "ACTIONS_REPLICA_2_PORT",
}


def postgres_version() -> str:
    """The one PostgreSQL cluster version installed (the folder under /etc/postgresql)."""
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]


def backend_of(server: str) -> str:
    """The HAProxy backend a replica belongs to (rasa-1 -> rasa)."""
    return next(backend for backend, servers in SERVERS.items() if server in servers)


def remaining(deadline: float) -> float:
    """Seconds left before `deadline`, or StartupError when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise StartupError("the cluster start ran out of time before its programs started")
    return left


class Cluster:
    """Two Rasa replicas and two action servers behind HAProxy, on a fresh database."""

    def __init__(self, workdir: Path) -> None:
        """Plan the cluster's ports, database, queue and key prefix (nothing started yet)."""
        tag = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.ports = dict(zip(PORT_NAMES, map(str, free_ports(len(PORT_NAMES))), strict=True))
        self.database = f"pilotrock_soak_{tag}"
        self.database_url = f"{POSTGRES}/{self.database}"
        self.token = Settings().rasa_api_token  # what `supervise` gives HAProxy and Rasa
        self.env = {
            **os.environ,
            **self.ports,
            "RASA_ENDPOINTS": "endpoints.cluster.yml",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
            "EVENT_QUEUE": f"pilotrock-soak-{tag}",
            "RASA_API_TOKEN": self.token,
            "RUN_DIR": str(workdir),
            "LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """HAProxy's Rasa frontend."""
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    def command(self, *args: str, timeout: float | None = None) -> None:
        """Run `python -m bot ARGS` with the cluster's environment."""
        subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=timeout,
        )

    def start(self, timeout: float = STARTUP_SECONDS) -> None:
        """Services up, a fresh migrated database, every process ready behind HAProxy."""
        deadline = time.monotonic() + timeout
        subprocess.run(
            ["bash", str(ROOT / "deploy" / "services.sh")],
            check=True,
            env={**self.env, "PG_DATABASE": self.database},
            stdout=subprocess.DEVNULL,
            timeout=remaining(deadline),
        )
        self.command("db", "upgrade", timeout=remaining(deadline))
        self.command("availability", "seed", timeout=remaining(deadline))
        with self.supervise_log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "supervise", "cluster"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_healthy(remaining(deadline))

    @property
    def supervise_log(self) -> Path:
        """Where `python -m bot supervise cluster` (supervisord in the foreground) writes."""
        return self.workdir / "supervise.log"

    def local(self, port_name: str, path: str) -> str:
        """An address on one of the cluster's ports."""
        return f"http://127.0.0.1:{self.ports[port_name]}{path}"

    def health_path(self, program: str) -> str:
        """What shows a replica ready: Rasa's /status (model loaded), the actions' /health."""
        return f"/status?token={self.token}" if program.startswith("rasa") else "/health"

    def health_url(self, program: str) -> str:
        """A replica's readiness URL."""
        return self.local(REPLICA_PORTS[program], self.health_path(program))

    def where(self, program: str) -> str:
        """A replica's readiness URL for people (port and path, no token)."""
        return f":{self.ports[REPLICA_PORTS[program]]}{self.health_path(program).split('?')[0]}"

    def awaited(self) -> list[Awaited]:
        """Everything a started cluster shows: replicas, the indexer, HAProxy seeing each UP."""
        items = [
            self.answering(name, REPLICA_PORTS[name], self.health_path(name))
            for name in REPLICA_PORTS
        ]
        items.append(self.answering("indexer", "INDEXER_HEALTH_PORT", "/health"))
        items.append(self.answering("haproxy", "HAPROXY_STATS_PORT", "/stats"))
        items += [
            Awaited(
                "haproxy",
                f"to see {backend_of(name)}/{name} UP and answering",
                partial(self.serving, name),
            )
            for name in REPLICA_PORTS
        ]
        return items

    def answering(self, program: str, port_name: str, path: str) -> Awaited:
        """`program` is ready once GET `path` on its port answers 200."""
        shown = f"on :{self.ports[port_name]}{path.split('?')[0]}"
        return Awaited(program, shown, partial(answers, self.local(port_name, path)))

    def watched(
        self, programs: Sequence[str] = PROGRAMS, gone: Sequence[str] = STOPPED
    ) -> list[Watched]:
        """supervisord and `programs` with their logs: a wait fails when one is in `gone`."""
        if self.process is None:
            raise StartupError("the cluster was not started")
        supervisord = Watched("supervisord", popen_stopped(self.process), self.supervise_log)
        return [
            supervisord,
            *(
                Watched(
                    name,
                    partial(self.program_stopped, name, gone),
                    self.workdir / "log" / f"{name}.log",
                )
                for name in programs
            ),
        ]

    def wait_healthy(self, timeout: float = STARTUP_SECONDS, gone: Sequence[str] = STOPPED) -> None:
        """Block until every replica is ready and HAProxy sees it UP (StartupError if not)."""
        took = wait_ready(self.awaited(), self.watched(PROGRAMS, gone), timeout)
        print(f"  cluster ready after {took:.0f} s", flush=True)

    def program_stopped(self, program: str, gone: Sequence[str] = STOPPED) -> str | None:
        """Why a supervised program is not up (its supervisord state is in `gone`), or None."""
        if self.process is None or self.process.poll() is not None:
            return None  # supervisord's own entry reports that
        try:
            info = self.supervisor().supervisor.getProcessInfo(program)
        except (OSError, xmlrpc.client.Error):
            return None  # supervisord is not answering yet
        if info["statename"] not in gone:
            return None
        why = info.get("spawnerr") or f"exit status {info.get('exitstatus')}"
        return f"supervisord says {info['statename']} ({why})"

    def supervisor(self) -> ServerProxy:
        """supervisord's XML-RPC interface over its unix socket."""
        sock = f"unix://{self.workdir / 'run' / 'supervisor.sock'}"
        return ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, sock))

    def kill(self, program: str) -> None:
        """kill -9 one supervised program (supervisord restarts it)."""
        pid = self.supervisor().supervisor.getProcessInfo(program)["pid"]
        os.kill(pid, signal.SIGKILL)

    def haproxy(self, command: str) -> str:
        """One command on HAProxy's admin socket; its whole answer."""
        return haproxy_command(self.workdir / "run", command)

    def server_states(self) -> dict[str, str]:
        """Each HAProxy server's status by `backend/server`: UP, DOWN, MAINT, 'UP 1/3'..."""
        rows = haproxy_stats(self.haproxy("show stat"))
        return {
            f"{row['pxname']}/{row['svname']}": row["status"]
            for row in rows
            if row.get("svname") not in ("FRONTEND", "BACKEND")
        }

    def server_state(self, server: str) -> str:
        """One replica's status in HAProxy ('' when HAProxy does not answer)."""
        try:
            return self.server_states().get(f"{backend_of(server)}/{server}", "")
        except (OSError, IndexError, KeyError):
            return ""

    def server_up(self, server: str) -> bool:
        """Whether HAProxy sees a replica UP (fully: not 'UP 1/3', on its way down)."""
        return self.server_state(server) == "UP"

    def serving(self, server: str) -> bool:
        """Whether HAProxy sees a replica UP and it answers its readiness URL, both now."""
        return self.server_up(server) and answers(self.health_url(server))

    def wait_state(self, awaited: list[Awaited], timeout: float = STATE_SECONDS) -> None:
        """Wait for a state a fault test needs; fail with HAProxy's view and the logs if not."""
        programs = [item.process for item in awaited if item.process in PROGRAMS]
        try:
            wait_ready(awaited, self.watched(programs, GAVE_UP), timeout)
        except StartupError as error:
            raise StartupError(f"{error}\nHAProxy sees: {self.known_states()}") from error

    def known_states(self) -> dict[str, str]:
        """HAProxy's server states for a failure message (empty when it does not answer)."""
        try:
            return self.server_states()
        except (OSError, IndexError, KeyError):
            return {}

    def wait_serving(self, servers: Sequence[str], timeout: float = STATE_SECONDS) -> None:
        """Wait until HAProxy sees each of `servers` UP and it answers its readiness URL."""
        awaited = [
            Awaited(
                name,
                f"to be UP in HAProxy and answer on {self.where(name)}",
                partial(self.serving, name),
            )
            for name in servers
        ]
        self.wait_state(awaited, timeout)

    def disable(self, server: str, timeout: float = STATE_SECONDS) -> None:
        """Put a replica in maintenance; return once it is out and the others serve."""
        backend = backend_of(server)
        self.haproxy(f"disable server {backend}/{server}")
        out = Awaited(
            server,
            "to be in maintenance in HAProxy",
            lambda: self.server_state(server).startswith("MAINT"),
        )
        others = [name for name in SERVERS[backend] if name != server]
        self.wait_state([out], timeout)
        self.wait_serving(others, timeout)

    def enable(self, server: str, timeout: float = STATE_SECONDS) -> None:
        """Take a replica out of maintenance; return once HAProxy sends it traffic again."""
        self.haproxy(f"enable server {backend_of(server)}/{server}")
        self.wait_serving([server], timeout)

    def queue_consumers(self) -> int | None:
        """Consumers of the cluster's event queue (None while RabbitMQ does not list it)."""
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "name", "consumers", "--formatter", "json"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        try:
            rows = json.loads(listed.stdout or "[]")
        except ValueError:
            return None
        queue = self.env["EVENT_QUEUE"]
        return next((row["consumers"] for row in rows if row.get("name") == queue), None)

    def wait_queue(self, timeout: float = STATE_SECONDS) -> None:
        """Wait until RabbitMQ has the event queue declared and the indexer consuming it."""
        consumed: Callable[[], bool] = lambda: (self.queue_consumers() or 0) > 0  # noqa: E731
        queue = self.env["EVENT_QUEUE"]
        self.wait_state(
            [Awaited("indexer", f"to consume queue {queue} in RabbitMQ", consumed)], timeout
        )

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
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)',
            ],
            check=False,
            stdout=subprocess.DEVNULL,
        )


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


def haproxy_command(run_dir: Path, command: str) -> str:
    """One command on the admin socket of the HAProxy whose RUN_DIR is `run_dir`; its answer."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(run_dir / "haproxy.sock"))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def haproxy_stats(answer: str) -> list[dict[str, str]]:
    """The rows of HAProxy's `show stat` answer (CSV), each by column name."""
    lines = answer.splitlines()
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]


def restart_postgresql() -> None:
    """Restart the machine's PostgreSQL (fast shutdown: every connection is dropped)."""
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            postgres_version(),
            "main",
            "restart",
            "-m",
            "fast",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def stop_then_start(stop: list[str], start: list[str]) -> None:
    """Run `stop` (it may fail: the service may be down already), then `start`, quietly."""
    subprocess.run(stop, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(start, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_redis() -> None:
    """Restart Redis (it keeps nothing on disk here: every lock is gone afterwards)."""
    stop_then_start(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )


def restart_rabbitmq() -> None:
    """Stop the RabbitMQ node and start it again."""
    stop_then_start(["rabbitmqctl", "-q", "stop"], ["rabbitmq-server", "-detached"])
    subprocess.run(
        ["rabbitmqctl", "-q", "await_startup", "--timeout", "120"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
