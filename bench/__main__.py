"""Print NLU quality, safety recall per category, training time, latency and memory."""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bench.safety import cross_validated_figures, heldout_figures
from bot.intake.safety import default_guard
from tests.e2e.test_nlu_heldout import heldout_examples
from tests.support.assessment import (
    accuracy,
    destructive_outcomes,
    false_alarms,
    heldout_confusions,
)
from tests.support.servers import ROOT, Servers, running_servers

SAFETY_SET = ROOT / "tests" / "safety" / "red_flag_set.yml"
SCRIPT = [
    "hello",
    "help me decide",
    '/inform{"scope": "complex"}',
    '/inform{"decisions": "many"}',
    "I need someone to help me find my way through the system",
    '/inform{"support": "alone"}',
    "how much does it cost?",
    "thanks!",
]


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[max(0, round(pct / 100 * len(ordered)) - 1)]


def nlu_figures(servers: Servers) -> None:
    """Held-out intent macro-F1 and accuracy."""
    pairs = heldout_examples()
    gold = [intent for _, intent in pairs]
    predicted = [servers.parse(text)["intent"]["name"] for text, _ in pairs]
    f1 = f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)
    print(
        f"held-out NLU: {len(pairs)} examples, intent macro-F1 {f1:.3f} "
        f"(target >= 0.95), accuracy {accuracy_score(gold, predicted):.3f}"
    )


def answer_figures(servers: Servers) -> None:
    """Held-out answer accuracy per question with its confusion; false alarms; destructive words."""
    for question, confusion in heldout_confusions(servers).items():
        cells = ", ".join(f"{gold}->{got} {n}" for (gold, got), n in sorted(confusion.items()))
        print(
            f"held-out answers, {question}: accuracy {accuracy(confusion):.3f} "
            f"of {sum(confusion.values())} (target >= 0.95); {cells}"
        )
    alarms, notes, lost, total = false_alarms(servers)
    print(
        f"false-alarm set: {len(alarms)}/{total} got an emergency reply (target 0); "
        f"{notes} of them only the one-line safety note, {len(lost)} lost progress (target 0)"
    )
    harmed, correct, total = destructive_outcomes(servers)
    print(
        f"destructive-word answers: {len(harmed)}/{total} deleted, cancelled or ended "
        f"(target 0); {correct}/{total} read as the expected answer"
    )


def red_flag_figures() -> None:
    """Recall and false positives of the deterministic guard on the project's safety set."""
    data = yaml.safe_load(SAFETY_SET.read_text())
    guard = default_guard()
    positives, negatives = data["positives"], data["negatives"]
    caught = sum(guard.check(item["text"]) is not None for item in positives)
    fired = sum(guard.check(text) is not None for text in negatives)
    print(
        f"red-flag guard: caught {caught}/{len(positives)} positives, "
        f"fired on {fired}/{len(negatives)} negatives"
    )


def conversation(servers: Servers) -> list[float]:
    """Run the scripted conversation once; the round-trip time of each message in ms."""
    sender, times = f"bench-{uuid.uuid4().hex[:10]}", []
    for text in SCRIPT:
        start = time.perf_counter()
        servers.send(sender, text)
        times.append((time.perf_counter() - start) * 1000)
    return times


def latency_figures(servers: Servers, concurrency: int, conversations: int, rounds: int) -> None:
    """p50/p95 REST round-trip latency with `concurrency` simultaneous conversations.

    Several rounds, each printed, then all of them together: on a shared machine one round
    can differ from the next, and the spread belongs in the figures.
    """
    conversation(servers)  # warm-up
    times: list[float] = []
    for number in range(1, rounds + 1):
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(lambda _: conversation(servers), range(conversations)))
        round_times = [t for run in results for t in run]
        times += round_times
        print(f"  round {number}: {latency_summary(round_times)}")
    print(f"REST latency at {concurrency:>2} concurrent, all rounds: {latency_summary(times)}")


def latency_summary(times: list[float]) -> str:
    """Message count, p50 and p95 of round-trip times in ms."""
    return (
        f"{len(times)} messages, p50 {statistics.median(times):.1f} ms, "
        f"p95 {percentile(times, 95):.1f} ms"
    )


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Rasa's workers are children of the main process)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [p for child in children for p in process_tree(int(child))]


def resident_mib(pid: int) -> float:
    """Resident memory of one process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_figure(pid: int) -> None:
    """Resident memory of the Rasa server: the main process and each worker."""
    sizes = [resident_mib(p) for p in process_tree(pid)]
    print(
        f"Rasa server resident memory: {sum(sizes):.0f} MiB in {len(sizes)} processes "
        f"({', '.join(f'{size:.0f}' for size in sizes)} MiB)"
    )


def training_figure() -> None:
    """Wall time of a full training run from scratch."""
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "train", "--force", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(f"full training: {time.perf_counter() - start:.0f} s (target <= 180 s)")
    shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    """Run every benchmark and print its figures."""
    red_flag_figures()
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as workdir,
        running_servers(Path(workdir)) as servers,
    ):
        nlu_figures(servers)
        heldout_figures(servers)
        answer_figures(servers)
        latency_figures(servers, concurrency=1, conversations=20, rounds=2)
        latency_figures(servers, concurrency=10, conversations=60, rounds=3)
        memory_figure(servers.rasa_pid)
    cross_validated_figures()
    training_figure()


if __name__ == "__main__":
    main()
