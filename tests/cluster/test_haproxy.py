"""The repository's HAProxy configuration in front of stand-in replicas (tests/cluster/upstream.py).

HAProxy runs `deploy/haproxy/haproxy.cfg` unchanged, with its ports and RUN_DIR from the
environment as `make run-cluster` sets them. Each upstream is a separate process, so a replica
can be killed with SIGKILL like a crashed server.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.cluster.support import (
    HAPROXY_CFG,
    ROOT,
    answers,
    free_ports,
    haproxy_binary,
    stop,
    wait_for,
)
from tests.support.cluster import haproxy_command, haproxy_stats

SERVERS = {"rasa": ("rasa-1", "rasa-2"), "actions": ("actions-1", "actions-2")}
ACTION_DELAY = 0.2  # seconds each action call takes: a kill finds calls in flight


@dataclass
class Balancer:
    """HAProxy and its four upstreams, with their ports and processes."""

    workdir: Path
    ports: dict[str, int]
    upstreams: dict[str, subprocess.Popen] = field(default_factory=dict)
    haproxy: subprocess.Popen | None = None

    def url(self, name: str, path: str = "/") -> str:
        """The address of a frontend or upstream by name."""
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def start_upstream(self, name: str) -> None:
        """Start (or restart) one upstream and wait until it answers."""
        delay = ACTION_DELAY if name.startswith("actions") else 0.0
        self.upstreams[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.cluster.upstream",
                "--port",
                str(self.ports[name]),
                "--name",
                name,
                "--delay",
                str(delay),
            ],
            cwd=ROOT,
        )
        assert wait_for(lambda: answers(self.url(name, "/health")), 10) is not None

    def admin(self, command: str) -> str:
        """One command on HAProxy's admin socket; its answer."""
        return haproxy_command(self.workdir / "run", command)

    def status(self, backend: str, server: str) -> str:
        """A server's state as HAProxy sees it: UP, DOWN, MAINT..."""
        for row in haproxy_stats(self.admin("show stat")):
            if row.get("pxname") == backend and row.get("svname") == server:
                return row["status"].split(" ")[0]
        raise KeyError(f"{backend}/{server}")


def environment(workdir: Path, ports: dict[str, int]) -> dict[str, str]:
    """HAProxy's environment, as `python -m bot supervise cluster` builds it."""
    names = {
        "rasa": "RASA_PORT",
        "actions": "ACTION_SERVER_PORT",
        "stats": "HAPROXY_STATS_PORT",
        "rasa-1": "RASA_REPLICA_1_PORT",
        "rasa-2": "RASA_REPLICA_2_PORT",
        "actions-1": "ACTIONS_REPLICA_1_PORT",
        "actions-2": "ACTIONS_REPLICA_2_PORT",
    }
    return os.environ | {"RUN_DIR": str(workdir)} | {names[k]: str(p) for k, p in ports.items()}


@pytest.fixture(scope="module")
def balancer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Balancer]:
    """HAProxy with the repository's configuration and four healthy upstreams."""
    binary = haproxy_binary()
    workdir = tmp_path_factory.mktemp("haproxy")
    (workdir / "run").mkdir()
    names = ["rasa", "actions", "stats", *SERVERS["rasa"], *SERVERS["actions"]]
    running = Balancer(workdir, dict(zip(names, free_ports(len(names)), strict=True)))
    env = environment(workdir, running.ports)
    try:
        for name in (*SERVERS["rasa"], *SERVERS["actions"]):
            running.start_upstream(name)
        log = (workdir / "haproxy.log").open("w")
        running.haproxy = subprocess.Popen(
            [binary, "-db", "-f", str(HAPROXY_CFG)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        started = wait_for(lambda: all_up(running), 10)
        assert started is not None, (workdir / "haproxy.log").read_text()
        yield running
    finally:
        for process in [running.haproxy, *running.upstreams.values()]:
            if process is not None:
                stop(process, timeout=5)


def all_up(balancer: Balancer) -> bool:
    """Whether HAProxy answers and sees every server UP."""
    try:
        return all(balancer.status(b, s) == "UP" for b, names in SERVERS.items() for s in names)
    except (OSError, KeyError, IndexError):
        return False


def action_call(balancer: Balancer) -> tuple[int, str]:
    """One action call through the actions frontend: (status, the server that answered)."""
    response = requests.post(
        balancer.url("actions", "/webhook"), json={"next_action": "x"}, timeout=10
    )
    server = response.json()["server"] if response.status_code == 200 else ""
    return response.status_code, server


def test_both_replicas_serve_each_frontend(balancer: Balancer) -> None:
    seen = {requests.get(balancer.url("rasa"), timeout=5).text for _ in range(6)}
    assert seen == {"rasa-1", "rasa-2"}
    assert {action_call(balancer) for _ in range(6)} == {(200, "actions-1"), (200, "actions-2")}


def test_stats_page_is_served(balancer: Balancer) -> None:
    response = requests.get(balancer.url("stats", "/stats;csv"), timeout=5)
    assert response.status_code == 200 and "actions-2" in response.text


def test_a_killed_action_server_is_invisible_to_callers_and_taken_back(balancer: Balancer) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        calls = [pool.submit(action_call, balancer) for _ in range(40)]
        time.sleep(1.0)  # calls are in flight on both servers
        balancer.upstreams["actions-1"].send_signal(signal.SIGKILL)
        results = [call.result() for call in calls]
    assert [status for status, _ in results] == [200] * 40  # retried on actions-2, no error
    went_down = wait_for(lambda: balancer.status("actions", "actions-1") == "DOWN", 3)
    assert went_down is not None, "a dead server must be marked DOWN within ~2 s"
    assert {action_call(balancer) for _ in range(4)} == {(200, "actions-2")}

    balancer.start_upstream("actions-1")
    came_back = wait_for(lambda: balancer.status("actions", "actions-1") == "UP", 3)
    assert came_back is not None, "a healthy server must be taken back within ~2 s"
    assert (200, "actions-1") in {action_call(balancer) for _ in range(6)}


def test_an_action_server_closing_without_an_answer_is_retried_on_the_other(
    balancer: Balancer,
) -> None:
    requests.get(balancer.url("actions-2", "/control/drop"), timeout=5)
    try:
        results = [action_call(balancer) for _ in range(8)]
    finally:
        requests.get(balancer.url("actions-2", "/control/serve"), timeout=5)
    assert results == [(200, "actions-1")] * 8  # every call actions-2 dropped went to actions-1


def test_sticky_cookie_keeps_a_client_on_its_replica_until_that_one_is_down(
    balancer: Balancer,
) -> None:
    client = requests.Session()
    first = client.get(balancer.url("rasa"), timeout=5).text
    assert "PR_RASA" in client.cookies
    assert {client.get(balancer.url("rasa"), timeout=5).text for _ in range(6)} == {first}

    assert balancer.admin(f"disable server rasa/{first}").strip() == ""
    try:
        assert balancer.status("rasa", first) == "MAINT"
        other = client.get(balancer.url("rasa"), timeout=5).text
        assert other != first  # redispatched, not an error
    finally:
        balancer.admin(f"enable server rasa/{first}")
    assert wait_for(lambda: balancer.status("rasa", first) == "UP", 3) is not None


def test_a_killed_rasa_replica_is_dropped_and_requests_go_to_the_other(balancer: Balancer) -> None:
    balancer.upstreams["rasa-2"].send_signal(signal.SIGKILL)
    balancer.upstreams["rasa-2"].wait()
    try:
        codes = [requests.get(balancer.url("rasa"), timeout=5) for _ in range(10)]
        assert [(r.status_code, r.text) for r in codes] == [(200, "rasa-1")] * 10
        assert wait_for(lambda: balancer.status("rasa", "rasa-2") == "DOWN", 3) is not None
    finally:
        balancer.start_upstream("rasa-2")
    assert wait_for(lambda: balancer.status("rasa", "rasa-2") == "UP", 3) is not None


def test_websocket_upgrade_is_tunnelled(balancer: Balancer) -> None:
    with socket.create_connection(("127.0.0.1", balancer.ports["rasa"]), timeout=5) as sock:
        sock.sendall(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\n"
            b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        payload = json.dumps({"hello": "replica"}).encode()
        sock.sendall(payload)
        echoed = b""
        while len(echoed) < len(payload):
            echoed += sock.recv(4096)
        assert echoed == payload
