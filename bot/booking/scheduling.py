"""Free intro-call slots for navigators: pure scheduling logic, no I/O.

Working windows are local wall-clock times in each navigator's IANA zone. All instants handled
here are aware datetimes, normalised to UTC. DST rules:

* grid times that do not exist (spring-forward gap) are skipped;
* ambiguous grid times (fall-back repeat) are offered once, at their first occurrence;
* a window edge means "the first instant the local clock reads at least this time", so an edge
  that falls inside a gap is the instant of the jump.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
Window = tuple[time, time]
Interval = tuple[datetime, datetime]

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_timezone(value: str) -> ZoneInfo:
    """Return the ZoneInfo for an IANA zone name, or raise ValueError naming the bad value."""
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValueError(
        f"Unknown time zone {value!r}: expected an IANA name such as 'America/New_York'"
    )


def _require_aware(value: datetime, name: str) -> None:
    """Raise ValueError unless `value` is a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _check_windows(windows: Sequence[Window], label: str) -> None:
    """Raise ValueError unless windows are naive local times, start < end, and disjoint."""
    previous_end: time | None = None
    for start, end in sorted(windows):
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{label}: windows must be naive local times, got {(start, end)!r}")
        if end <= start:
            raise ValueError(f"{label}: window must end after it starts, got {(start, end)!r}")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"{label}: windows overlap at {start.isoformat()}")
        previous_end = end


@dataclass(frozen=True)
class NavigatorSchedule:
    """One navigator's availability rules, in their own time zone."""

    navigator_id: int
    timezone: str  # IANA, e.g. "America/Denver"
    weekly: dict[int, list[Window]]  # weekday (0=Mon) -> local working windows
    overrides: dict[date, list[Window]] = field(default_factory=dict)  # replaces a day; [] = closed
    time_off: list[Interval] = field(default_factory=list)  # aware datetimes, half-open

    def __post_init__(self) -> None:
        """Validate the zone, the windows and the time-off spans."""
        parse_timezone(self.timezone)
        for weekday, windows in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Mon) to 6 (Sun), got {weekday!r}")
            _check_windows(windows, f"navigator {self.navigator_id} weekday {weekday}")
        for day, windows in self.overrides.items():
            _check_windows(windows, f"navigator {self.navigator_id} override {day}")
        for start, end in self.time_off:
            _require_aware(start, "time_off start")
            _require_aware(end, "time_off end")
            if end <= start:
                raise ValueError(f"time_off must end after it starts: {start} .. {end}")

    @property
    def zone(self) -> ZoneInfo:
        """The navigator's zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone.strip())

    def windows_on(self, day: date) -> list[Window]:
        """Working windows on a local date, earliest first; an override replaces the weekly ones."""
        windows = self.overrides[day] if day in self.overrides else self.weekly.get(day.weekday())
        return sorted(windows or [])


@dataclass(frozen=True)
class Slot:
    """A bookable interval for one navigator (aware UTC datetimes)."""

    navigator_id: int
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Reject naive or empty intervals and normalise both ends to UTC."""
        _require_aware(self.start, "Slot.start")
        _require_aware(self.end, "Slot.end")
        if self.end <= self.start:
            raise ValueError(f"Slot must end after it starts: {self.start} .. {self.end}")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))


@dataclass(frozen=True)
class Policy:
    """Booking rules."""

    length: timedelta = timedelta(minutes=15)
    step: timedelta = timedelta(minutes=15)  # grid anchored at the navigator's local midnight
    min_notice: timedelta = timedelta(hours=2)
    buffer: timedelta = timedelta(minutes=10)  # kept clear before and after existing bookings
    horizon: timedelta = timedelta(days=21)  # starts must be before now + horizon

    def __post_init__(self) -> None:
        """Reject non-positive length/step/horizon, negative notice/buffer, sub-second steps."""
        if min(self.length, self.step, self.horizon) <= timedelta(0):
            raise ValueError("Policy length, step and horizon must be positive")
        if min(self.min_notice, self.buffer) < timedelta(0):
            raise ValueError("Policy min_notice and buffer must not be negative")
        if self.step % timedelta(seconds=1):
            raise ValueError("Policy step must be a whole number of seconds")


def _local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """UTC instant of a local wall time (first occurrence if ambiguous), None if it never occurs."""
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return instant


def _jump_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clock jumps over `naive`, a wall time inside a spring-forward gap."""
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)  # still on the old offset
    after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)  # already on the new offset
    new_offset = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)


def _edge_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """First instant on `day` at which the local clock reads at least `wall`."""
    naive = datetime.combine(day, wall)
    return _local_to_utc(naive, zone) or _jump_instant(naive, zone)


def _grid_seconds(window: Window, step: int) -> range:
    """Seconds after local midnight of the grid times inside [window start, window end)."""
    first, last = (t.hour * 3600 + t.minute * 60 + t.second for t in window)
    return range(-(-first // step) * step, last, step)


def _grid_starts(
    day: date, window: Window, part: Interval, zone: ZoneInfo, policy: Policy
) -> Iterator[datetime]:
    """Starts on the day's local grid whose whole slot lies inside `part` (UTC), ascending."""
    low, high = part
    offset = low.astimezone(zone).utcoffset()
    if offset is not None and offset == high.astimezone(zone).utcoffset():  # no DST change
        midnight = datetime.combine(day, time(), tzinfo=UTC) - offset
        start = midnight - (midnight - low) // policy.step * policy.step  # first grid time >= low
        while start + policy.length <= high:
            yield start
            start += policy.step
        return
    midnight_wall = datetime.combine(day, time())
    for seconds in _grid_seconds(window, int(policy.step.total_seconds())):
        local = _local_to_utc(midnight_wall + timedelta(seconds=seconds), zone)
        if local is not None and low <= local and local + policy.length <= high:
            yield local


def _merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of half-open UTC intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return merged


def _blocked(
    schedule: NavigatorSchedule, bookings: list[Slot], buffer: timedelta
) -> list[Interval]:
    """Time off plus buffered bookings for one navigator, merged."""
    spans = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in schedule.time_off]
    spans += [(b.start - buffer, b.end + buffer) for b in bookings]
    return _merge_intervals(spans)


def _local_days(first: datetime, last: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Local dates from the one containing `first` to the one containing `last`, inclusive."""
    day, final = first.astimezone(zone).date(), last.astimezone(zone).date()
    while day <= final:
        yield day
        day += timedelta(days=1)


def _bookings_on(day: date, booking_starts: list[datetime], zone: ZoneInfo) -> int:
    """How many of the sorted booking starts fall on this local date."""
    midnight, next_midnight = (_edge_instant(d, time(), zone) for d in (day, day + timedelta(1)))
    return bisect_left(booking_starts, next_midnight) - bisect_left(booking_starts, midnight)


def _open_parts(span: Interval, blocks: list[Interval], min_length: timedelta) -> list[Interval]:
    """Parts of `span` at least `min_length` long not covered by the sorted, merged `blocks`."""
    start, end = span
    index = bisect_right(blocks, (start, start))
    index -= 1 if index and blocks[index - 1][1] > start else 0
    parts: list[Interval] = []
    while index < len(blocks) and blocks[index][0] < end:
        block_start, block_end = blocks[index]
        if block_start - start >= min_length:
            parts.append((start, block_start))
        start, index = max(start, block_end), index + 1
    return [*parts, (start, end)] if end - start >= min_length else parts


def _navigator_starts(
    schedule: NavigatorSchedule,
    bookings: list[Slot],
    earliest: datetime,
    latest: datetime,
    policy: Policy,
) -> Iterator[tuple[datetime, int, int]]:
    """Yield (start, bookings that local day, navigator id) for each free start, ascending."""
    zone = schedule.zone
    blocks = _blocked(schedule, bookings, policy.buffer)
    booking_starts = sorted(b.start for b in bookings)
    for day in _local_days(earliest, latest, zone):
        load: int | None = None
        for window in schedule.windows_on(day):
            opens, closes = (_edge_instant(day, wall, zone) for wall in window)
            if opens >= latest:
                return
            for part in _open_parts((max(opens, earliest), closes), blocks, policy.length):
                for start in _grid_starts(day, window, part, zone, policy):
                    if start >= latest:
                        return
                    if load is None:
                        load = _bookings_on(day, booking_starts, zone)
                    yield start, load, schedule.navigator_id


def free_slots(
    schedules: Iterable[NavigatorSchedule],
    booked: list[Slot],
    now: datetime,
    *,
    after: datetime | None = None,
    count: int = 5,
    policy: Policy = Policy(),
) -> list[Slot]:
    """Next `count` free slots starting at or after max(now + min_notice, after), earliest first."""
    _require_aware(now, "now")
    if after is not None:
        _require_aware(after, "after")
    schedules = list(schedules)
    ids = [s.navigator_id for s in schedules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate navigator ids in schedules: {sorted(ids)}")
    earliest = now + policy.min_notice if after is None else max(now + policy.min_notice, after)
    latest = now + policy.horizon
    if count <= 0 or earliest >= latest:
        return []
    by_navigator: dict[int, list[Slot]] = {i: [] for i in ids}
    for slot in booked:
        if slot.navigator_id in by_navigator:
            by_navigator[slot.navigator_id].append(slot)
    streams = [
        _navigator_starts(s, by_navigator[s.navigator_id], earliest, latest, policy)
        for s in schedules
    ]
    slots: list[Slot] = []
    # Streams are ordered by (start, that day's bookings, id): the first of each start wins.
    for start, _load, navigator_id in heapq.merge(*streams):
        if slots and slots[-1].start == start:
            continue
        slots.append(Slot(navigator_id, start, start + policy.length))
        if len(slots) == count:
            break
    return slots


def format_slot(slot: Slot, tz: str) -> str:
    """Human text in the visitor's zone, e.g. 'Tue 3 Dec, 10:15 AM EST'."""
    return format_moment(slot.start, tz)


def format_moment(moment: datetime, tz: str) -> str:
    """An instant as human text in the zone `tz`, e.g. 'Tue 3 Dec, 10:15 AM EST'."""
    local = moment.astimezone(parse_timezone(tz))
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    day, month = _DAY_NAMES[local.weekday()], _MONTH_NAMES[local.month - 1]
    return f"{day} {local.day} {month}, {hour}:{local.minute:02d} {meridiem} {local.tzname()}"


def working_spans(schedule: NavigatorSchedule, first: datetime, last: datetime) -> list[Interval]:
    """The navigator's working spans (UTC) that overlap [first, last], time off cut out."""
    _require_aware(first, "first")
    _require_aware(last, "last")
    zone = schedule.zone
    spans = [
        (_edge_instant(day, start, zone), _edge_instant(day, end, zone))
        for day in _local_days(first - timedelta(days=1), last, zone)
        for start, end in schedule.windows_on(day)
    ]
    blocks = _merge_intervals((s.astimezone(UTC), e.astimezone(UTC)) for s, e in schedule.time_off)
    parts = [part for span in spans for part in _open_parts(span, blocks, timedelta(seconds=1))]
    return sorted(part for part in parts if part[1] > first and part[0] <= last)


def on_duty(schedule: NavigatorSchedule, moment: datetime) -> bool:
    """Whether the navigator is inside a working window, and not on time off, at `moment`."""
    return any(start <= moment < end for start, end in working_spans(schedule, moment, moment))


def next_on_duty(schedule: NavigatorSchedule, moment: datetime, days: int = 14) -> datetime | None:
    """The first instant at or after `moment` when the navigator is on duty (within `days`)."""
    spans = working_spans(schedule, moment, moment + timedelta(days=days))
    return max(spans[0][0], moment).astimezone(UTC) if spans else None
