"""Shared helpers of the supervision and load-balancer tests."""

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

# One port allocator and one health probe for every test process (tests/support/servers.py).
from tests.support.servers import answers as answers
from tests.support.servers import free_ports as free_ports

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def missing(reason: str) -> None:
    """Skip with `reason`, or fail when CI is set (CI installs everything these tests need)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def haproxy_binary() -> str:
    """Debian's HAProxy, or a skip (a failure on CI)."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if not found:
        missing("HAProxy is not installed: apt-get install haproxy (.ci/run does)")
    return str(found)


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until `condition()` held, or None if it did not within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """The ids of a process's child processes."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a process we started, then kill it if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
