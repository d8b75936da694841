"""The harness's port allocator and start-up wait (tests/support/servers.py), without servers."""

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.cluster import PORT_NAMES, Cluster
from tests.support.servers import (
    Awaited,
    PortAllocator,
    StartupError,
    Watched,
    free_port,
    free_ports,
    popen_stopped,
    wait_ready,
)


def bindable(port: int, host: str) -> bool:
    """Whether a listening socket can take `port` on `host` now."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        sock.listen()
        return True


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    """Processes a test started, killed at its end."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def python(code: str, log: Path, processes: list[subprocess.Popen]) -> subprocess.Popen:
    """Run `python -c code` with its output in `log`; remembered for the clean-up."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out)
    processes.append(process)
    return process


def never_ready(
    name: str,
    where: str,
    process: subprocess.Popen,
    log: Path,
    timeout: float,
    say: Callable[[str], object] = lambda _: None,
) -> tuple[str, float]:
    """Wait for `name` (never ready, its `process` watched); the StartupError and seconds taken."""
    begin = time.monotonic()
    with pytest.raises(StartupError) as failed:
        wait_ready(
            [Awaited(name, where, lambda: False)],
            [Watched(name, popen_stopped(process), log)],
            timeout=timeout,
            say=say,
        )
    return str(failed.value), time.monotonic() - begin


def test_many_allocations_never_repeat_a_port() -> None:
    allocator = PortAllocator()
    ports = [port for _ in range(40) for port in allocator.allocate(11)]
    ports += [allocator.allocate(1)[0] for _ in range(60)]
    assert len(ports) == len(set(ports)) == 500
    assert allocator.handed_out == set(ports)


def test_allocated_ports_are_really_free_on_every_interface() -> None:
    ports = PortAllocator().allocate(30)
    assert all(bindable(port, "127.0.0.1") for port in ports)
    assert all(bindable(port, "0.0.0.0") for port in ports)


def test_threads_sharing_the_allocator_get_distinct_ports() -> None:
    allocator = PortAllocator()
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(lambda _: allocator.allocate(11), range(32)))
    ports = [port for batch in batches for port in batch]
    assert len(ports) == len(set(ports)) == 352


def test_a_port_held_elsewhere_is_never_handed_out() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        held = holder.getsockname()[1]
        assert held not in PortAllocator().allocate(200)


def test_the_process_wide_helpers_share_one_allocator() -> None:
    singles = [free_port() for _ in range(20)]
    batches = [port for _ in range(10) for port in free_ports(11)]
    assert len(set(singles + batches)) == 130


def test_two_clusters_in_one_process_share_no_port(tmp_path: Path) -> None:
    first, second = Cluster(tmp_path / "a"), Cluster(tmp_path / "b")
    ports = [*first.ports.values(), *second.ports.values()]
    assert len(ports) == len(set(ports)) == 2 * len(PORT_NAMES)


def test_a_cluster_says_what_it_waits_for(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    shown = set(map(str, cluster.awaited()))
    assert f"rasa-2 on :{cluster.ports['RASA_REPLICA_2_PORT']}/status" in shown
    assert f"indexer on :{cluster.ports['INDEXER_HEALTH_PORT']}/health" in shown
    assert "haproxy to see rasa/rasa-1 UP and answering" in shown
    assert all(cluster.token not in line for line in shown)  # the API token is not printed


def test_the_wait_fails_at_once_when_a_process_exited(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    log = tmp_path / "dies.log"
    process = python("import sys; print('dies: loading', flush=True); sys.exit(3)", log, started)
    said: list[str] = []
    error, took = never_ready("dies", "on :1/health", process, log, 120, said.append)
    assert took < 10  # not the 120 s deadline
    assert "dies failed: exited with code 3" in error
    assert "dies: loading" in error  # its log tail
    assert said[0] == "  waiting for dies on :1/health"


def test_the_wait_fails_at_once_when_a_log_says_the_port_is_taken(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = (
            "import socket, time\ntry:\n    socket.socket().bind(('127.0.0.1', "
            f"{port}))\nexcept OSError as error:\n    print(error, flush=True)\n"
            "time.sleep(60)"
        )
        log = tmp_path / "clash.log"
        process = python(code, log, started)
        error, took = never_ready("clash", f"on :{port}/health", process, log, 60)
    assert took < 15
    assert process.poll() is None  # still running: the log gave it away
    assert "address already in use" in error.lower()


def test_the_wait_gives_up_at_its_deadline_with_the_log_tail(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    log = tmp_path / "slow.log"
    process = python(
        "import time; print('slow: still loading', flush=True); time.sleep(60)", log, started
    )
    error, took = never_ready("slow", "on :2/status", process, log, 1.5)
    assert took < 5
    assert "not ready after 2 s: slow on :2/status" in error
    assert "slow: still loading" in error


def test_the_wait_returns_once_everything_is_ready(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    process = python("import time; time.sleep(60)", tmp_path / "ok.log", started)
    polls = iter([False, False, True])
    said: list[str] = []
    took = wait_ready(
        [Awaited("ok", "on :3/health", lambda: next(polls))],
        [Watched("ok", popen_stopped(process), tmp_path / "ok.log")],
        timeout=30,
        say=said.append,
        interval=0.05,
    )
    assert took < 5
    assert said == ["  waiting for ok on :3/health", "  ready after 0 s: ok on :3/health"]
