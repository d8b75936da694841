"""Blocking calls run off the event loop: `in_thread`, `completed` and `ArrivalOrder`.

`LoopWatch` and `SlowCalls` are the probe the other test_event_loop_* modules use. Storage calls
are made SLOW seconds slower (as under load), each recording its thread and when it ran; the
watch is a task on the loop under test that ticks every TICK. A call made on the loop holds it:
the watch cannot tick until the call is over. A call made in a worker thread leaves it free:
the watch ticks all along. Counting the ticks during each slowed call, rather than timing the
longest gap, keeps the probe exact on a busy test machine, where the OS alone can stall a
process for a few hundred milliseconds now and then.
"""

import asyncio
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from bot.rasa.runtime.threads import ArrivalOrder, completed, in_thread

T = TypeVar("T")

TICK = 0.01  # seconds between the watch's ticks
SLOW = 0.1  # seconds each slowed storage call takes: the loop would be held this long
MIN_TICKS = 2  # ticks during a slowed call that show the loop went on (about 10 expected)


@dataclass(frozen=True)
class Call:
    """Where and when one slowed call ran."""

    thread: int
    start: float
    end: float


class SlowCalls(list[Call]):
    """Storage calls made SLOW seconds slower; where and when each one ran."""

    def slow(self, call: Callable[..., T]) -> Callable[..., T]:
        """`call`, SLOW seconds slower."""

        def slowed(*args: Any, **kwargs: Any) -> T:
            start = time.perf_counter()
            time.sleep(SLOW)
            self.append(Call(threading.get_ident(), start, time.perf_counter()))
            return call(*args, **kwargs)

        return slowed


class LoopWatch:
    """A task that ticks every TICK on the running loop and records when it ticked."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.loop_thread = threading.get_ident()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "LoopWatch":
        self.loop_thread = threading.get_ident()
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)  # the first tick is scheduled before the watched work starts
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.ticks.append(time.perf_counter())

    def ticks_during(self, call: Call) -> int:
        """How many times the watch ticked while `call` ran."""
        return sum(call.start <= tick <= call.end for tick in self.ticks)

    def kept_running_during(self, calls: SlowCalls) -> bool:
        """Whether the slowed calls ran, each in a worker thread while the loop ticked on."""
        return bool(calls) and all(
            call.thread != self.loop_thread and self.ticks_during(call) >= MIN_TICKS
            for call in calls
        )


async def test_the_watch_sees_a_call_that_holds_the_loop() -> None:
    calls = SlowCalls()
    async with LoopWatch() as watch:
        calls.slow(lambda: None)()
        await asyncio.sleep(5 * TICK)
    assert watch.ticks_during(calls[0]) == 0 and len(watch.ticks) >= 1
    assert not watch.kept_running_during(calls)


async def test_in_thread_keeps_the_loop_free_and_returns_the_result() -> None:
    calls = SlowCalls()
    async with LoopWatch() as watch:
        assert await in_thread(calls.slow(lambda: 42)) == 42
    assert watch.kept_running_during(calls)


async def test_in_thread_raises_the_calls_error() -> None:
    def fail() -> None:
        raise LookupError("storage away")

    with pytest.raises(LookupError, match="storage away"):
        await in_thread(fail)


async def test_a_cancelled_caller_keeps_the_result_and_is_cancelled_at_its_next_await() -> None:
    """As with a blocking call: the call finishes and its result is kept, then the
    cancellation lands."""
    started, kept = threading.Event(), []

    def issue() -> str:
        started.set()
        time.sleep(SLOW)
        return "ticket"

    async def caller() -> None:
        kept.append(await in_thread(issue))
        await asyncio.sleep(1)  # the cancellation lands here
        kept.append("not reached")

    task = asyncio.create_task(caller())
    await asyncio.to_thread(started.wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert kept == ["ticket"]


def test_completed_runs_a_coroutine_that_never_suspends() -> None:
    async def sync_work() -> int:
        return 7

    assert completed(sync_work()) == 7


def test_completed_refuses_a_coroutine_that_suspends() -> None:
    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="suspended"):
        completed(waits())


async def test_arrival_order_lets_one_key_through_in_arrival_order() -> None:
    order, held = ArrivalOrder(), []

    async def arrive(name: str, key: str, hold: float) -> None:
        async with order.turn_of(key):
            held.append(f"{name} in")
            await asyncio.sleep(hold)
            held.append(f"{name} out")

    await asyncio.gather(
        arrive("a", "chat", 0.05), arrive("b", "chat", 0.0), arrive("c", "other", 0.0)
    )
    assert held == ["a in", "c in", "c out", "a out", "b in", "b out"]
    assert len(order) == 0  # keys are forgotten once nobody holds or waits for them


def test_arrival_order_keeps_each_event_loops_own_queue() -> None:
    """Rasa replicas in one test process: two loops in two threads, one conversation."""
    order, failures = ArrivalOrder(), []

    async def replica() -> None:
        async def message() -> None:
            async with order.turn_of("conversation"):
                await asyncio.sleep(0.005)

        await asyncio.gather(*(message() for _ in range(5)))

    def run() -> None:
        try:
            asyncio.run(replica())
        except Exception as error:  # a lock bound to the other loop
            failures.append(error)

    runners = [threading.Thread(target=run) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=10)
    assert failures == [] and len(order) == 0
