"""Print NLU quality, safety recall per category, training time, latency and memory; the product
against a stock Rasa bot; Rasa CPU per message end to end and per stage.

`python -m bench` runs every section; `python -m bench SECTION ...` runs the named ones.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bench.anchor import anchor_figures
from bench.cpu import cpu_figures
from bench.profile import profile_figures
from bench.safety import cross_validated_figures, heldout_figures
from bench.stats import latency_summary, process_tree, resident_mib
from bench.visits import SCRIPT
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


def quality_figures() -> None:
    """NLU, answers, safety, REST latency and memory of the product (default two workers)."""
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


def profile_and_cpu_figures() -> None:
    """The per-stage profile in process, then the same messages on a real server, side by side."""
    in_process = profile_figures()
    server = cpu_figures()
    print("Rasa CPU per message, in process (plain pass) against a real one-worker server:")
    for bucket, name in (("text", "free-text message"), ("payload", "button payload")):
        print(
            f"  per {name:<17} in process {in_process[f'{bucket}_plain']:5.1f} ms, "
            f"server {server[bucket]:5.1f} ms (utime + stime)"
        )


SECTIONS: dict[str, Callable[[], object]] = {
    "quality": quality_figures,
    "profile": profile_and_cpu_figures,
    "cpu": cpu_figures,
    "anchor": anchor_figures,
    "training": training_figure,
}
EVERYTHING = ("quality", "profile", "anchor", "training")  # profile runs the cpu section too


def main() -> None:
    """Run the named sections, or every one, and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(SECTIONS))
    chosen = parser.parse_args().sections or EVERYTHING
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    if "profile" in chosen:
        chosen = [name for name in chosen if name != "cpu"]
    for name in chosen:
        start = time.perf_counter()
        SECTIONS[name]()
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
