"""The per-stage profile's table: ms of Rasa CPU per message by stage, then by area."""

from bench.stages import Profiler, Totals
from bench.stats import mean

BUCKETS = ("text", "payload")  # free-text messages, button payloads
ACTIONS = "action server round trip (RemoteAction.run)"
# Areas of a turn and the stage names (their beginnings) that make each up.
AREAS = {
    "NLU pipeline (graph nodes, sentence encoder)": ("NLU:", "sentence encoder"),
    "policies (prediction graph)": ("policy:",),
    "tracker store (load, save, events <-> tracker)": ("tracker load", "tracker save"),
    "lock store": ("lock store",),
    "action server calls (Rasa's side: state, HTTP, checks)": (ACTIONS, "tracker state"),
    "event serialisation": ("event serialisation",),
}
HEADER = (
    f"  {'stage (CPU exclusive of the stages it calls)':<58} {'ms/msg':>7} {'text':>7} "
    f"{'payload':>7} {'share':>7} {'incl.':>7} {'calls':>6} {'wall':>7}"
)


def per_message(seconds: float, count: int) -> float:
    """Seconds in total as ms per message."""
    return 1000 * seconds / max(1, count)


def row(name: str, stage: Totals, by_bucket: list[float], count: int, total: float) -> str:
    """One line: CPU (all, text, payload), share, CPU inclusive, calls and wall, per message."""
    cells = " ".join(f"{ms:7.2f}" for ms in by_bucket)
    return (
        f"  {name[:58]:<58} {per_message(stage.cpu, count):7.2f} {cells} "
        f"{100 * stage.cpu / total:5.1f} % {per_message(stage.inclusive, count):7.2f} "
        f"{stage.calls / count:6.2f} {per_message(stage.wall, count):7.2f}"
    )


def bucket_cells(profiler: Profiler, labels: list[str], counts: dict[str, int]) -> list[float]:
    """The stages' exclusive CPU together, in ms per free-text message and per payload."""
    return [
        per_message(sum(profiler.total(x, (b,)).cpu for x in labels), counts[b]) for b in BUCKETS
    ]


def print_table(profiler: Profiler, counts: dict[str, int]) -> None:
    """Every stage, largest first; the total; the areas; the action server's round trips."""
    count = sum(counts.values())
    stages = {label: profiler.total(label, BUCKETS) for label in profiler.labels()}
    total = sum(stage.cpu for stage in stages.values())
    print(HEADER)
    for label, stage in sorted(stages.items(), key=lambda item: -item[1].cpu):
        print(row(label, stage, bucket_cells(profiler, [label], counts), count, total))
    whole = Totals(total, sum(s.wall for s in stages.values()), count, total)
    print(row("total", whole, bucket_cells(profiler, list(stages), counts), count, total))
    print_areas(profiler, stages, counts, total)
    actions = stages.get(ACTIONS, Totals())
    print(
        f"  action server: {actions.calls / count:.2f} round trips per message, "
        f"{per_message(actions.wall, count):.1f} ms wall per message waiting on them "
        f"({per_message(actions.wall, actions.calls):.1f} ms each)"
    )


def area_of(label: str) -> str:
    """The area a stage belongs to."""
    return next((a for a, starts in AREAS.items() if label.startswith(starts)), "the rest")


def print_areas(
    profiler: Profiler, stages: dict[str, Totals], counts: dict[str, int], total: float
) -> None:
    """The stages summed by area, in ms of CPU per message (all, text, payload) and share."""
    print(f"  {'area':<58} {'ms/msg':>7} {'text':>7} {'payload':>7} {'share':>7}")
    for area in [*AREAS, "the rest"]:
        labels = [label for label in stages if area_of(label) == area]
        cpu = sum(stages[label].cpu for label in labels)
        cells = bucket_cells(profiler, labels, counts)
        print(
            f"  {area:<58} {per_message(cpu, sum(counts.values())):7.2f} "
            f"{cells[0]:7.2f} {cells[1]:7.2f} {100 * cpu / total:5.1f} %"
        )


def summary(plain: dict[str, float], timed: dict[str, list[float]]) -> dict[str, float]:
    """Print and return Rasa CPU per free-text message and per payload, plain and timed."""
    figures = {f"{b}_plain": plain[b] for b in BUCKETS} | {
        f"{b}_timed": mean(timed[b]) for b in BUCKETS
    }
    print(
        f"  Rasa CPU in process, per free-text message {figures['text_plain']:.1f} ms, per "
        f"button payload {figures['payload_plain']:.1f} ms (timed pass: "
        f"{figures['text_timed']:.1f} and {figures['payload_timed']:.1f} ms)"
    )
    return figures
