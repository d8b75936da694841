"""Shared measuring helpers: percentiles, latency summaries, process trees and their CPU time."""

import os
import statistics
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")  # utime and stime are counted in these


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[max(0, round(pct / 100 * len(ordered)) - 1)]


def latency_summary(times: list[float]) -> str:
    """Message count, p50 and p95 of round-trip times in ms."""
    return (
        f"{len(times)} messages, p50 {statistics.median(times):.1f} ms, "
        f"p95 {percentile(times, 95):.1f} ms"
    )


def mean(values: list[float]) -> float:
    """The mean, 0 for no values."""
    return statistics.fmean(values) if values else 0.0


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Rasa's workers are children of the main process)."""
    return [pid] + [p for child in children(pid) for p in process_tree(child)]


def children(pid: int) -> list[int]:
    """The direct children of a process, from every one of its threads."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def command_line(pid: int) -> str:
    """A process's command line, arguments joined by spaces ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def child_running(words: str) -> int:
    """The pid of this process's child whose command line holds `words` (0 if none)."""
    return next((pid for pid in children(os.getpid()) if words in command_line(pid)), 0)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads, living and ended) in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants in seconds."""
    return sum(cpu_seconds(p) for p in process_tree(pid))


def resident_mib(pid: int) -> float:
    """Resident memory of one process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
