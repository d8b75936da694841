"""Timers around named functions: CPU and wall time of each stage, exclusive of the stages
it calls.

The driver sends one message at a time, so the stages of one message nest properly even when a
stage runs in a worker thread (the tracker and lock stores): one stack serves them all. CPU is
the process's (`time.process_time`: every thread, TensorFlow's and the stores' included).
"""

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Restore = Callable[[], None]


@dataclass
class Totals:
    """Accumulated CPU and wall seconds (exclusive), CPU inclusive of inner stages, calls."""

    cpu: float = 0.0
    wall: float = 0.0
    calls: int = 0
    inclusive: float = 0.0


@dataclass(eq=False)
class Frame:
    """A stage running now: when it started, and what its inner stages took."""

    label: str
    group: str
    cpu: float
    wall: float
    inner_cpu: float = 0.0
    inner_wall: float = 0.0


@dataclass
class Profiler:
    """The stack of running stages and every stage's totals, per bucket (e.g. text, payload)."""

    totals: dict[tuple[str, str], Totals] = field(default_factory=dict)
    stack: list[Frame] = field(default_factory=list)
    bucket: str = ""

    def group(self) -> str:
        """The graph (NLU or policy) the running stage belongs to, "" outside one."""
        return self.stack[-1].group if self.stack else ""

    def enter(self, label: str, group: str | None = None) -> Frame | None:
        """Start a stage; None when it is called again from inside itself (it counts once)."""
        if self.stack and self.stack[-1].label == label:
            return None
        frame = Frame(label, self.group() if group is None else group, *clocks())
        self.stack.append(frame)
        return frame

    def leave(self, frame: Frame | None) -> None:
        """Add a finished stage's exclusive time to its totals and its time to its parent's."""
        if frame is None:
            return
        cpu, wall = clocks()
        cpu, wall = cpu - frame.cpu, wall - frame.wall
        self.stack.remove(frame)
        totals = self.totals.setdefault((self.bucket, frame.label), Totals())
        totals.cpu += cpu - frame.inner_cpu
        totals.wall += wall - frame.inner_wall
        totals.calls += 1
        totals.inclusive += cpu
        if self.stack:
            self.stack[-1].inner_cpu += cpu
            self.stack[-1].inner_wall += wall

    @contextmanager
    def stage(self, label: str, group: str | None = None) -> Iterator[None]:
        """Time the body of a `with` as a stage."""
        frame = self.enter(label, group)
        try:
            yield
        finally:
            self.leave(frame)

    def labels(self) -> list[str]:
        """Every stage seen, in the order first seen."""
        return list(dict.fromkeys(label for _, label in self.totals))

    def total(self, label: str, buckets: tuple[str, ...]) -> Totals:
        """A stage's totals over the given buckets."""
        found = [self.totals[(b, label)] for b in buckets if (b, label) in self.totals]
        return Totals(
            sum(t.cpu for t in found),
            sum(t.wall for t in found),
            sum(t.calls for t in found),
            sum(t.inclusive for t in found),
        )


def clocks() -> tuple[float, float]:
    """Process CPU seconds and wall seconds now."""
    return time.process_time(), time.perf_counter()


Label = str | Callable[..., str]


def timed(profiler: Profiler, function: Callable, label: Label, group: str | None) -> Callable:
    """`function` (sync or async) timed as a stage; `label` may be computed from the arguments."""

    def name(args: tuple) -> str:
        """The stage's name for a call with these arguments."""
        return label(*args) if callable(label) else label

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            frame = profiler.enter(name(args), group)
            try:
                return await function(*args, **kwargs)
            finally:
                profiler.leave(frame)

        return async_wrapper

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        frame = profiler.enter(name(args), group)
        try:
            return function(*args, **kwargs)
        finally:
            profiler.leave(frame)

    return wrapper


def wrap(
    profiler: Profiler, owner: Any, attribute: str, label: Label, group: str | None = None
) -> Restore:
    """Replace `owner.attribute` (function, method, class- or staticmethod) by its timed self."""
    own = vars(owner).get(attribute) if isinstance(owner, type) else None
    original = own if own is not None else getattr(owner, attribute)
    if isinstance(original, classmethod | staticmethod):
        kind = type(original)
        setattr(owner, attribute, kind(timed(profiler, original.__func__, label, group)))
    else:
        setattr(owner, attribute, timed(profiler, original, label, group))
    if own is None and isinstance(owner, type):
        return lambda: delattr(owner, attribute)  # it was inherited: inherit it again
    return lambda: setattr(owner, attribute, original)
