"""Who is on duty at an instant, and when they are next: windows, DST, overrides and time off.

Expected instants are worked out by hand. America/New_York is UTC-5 (EST) until 02:00 on
Sun 8 Mar 2026, when clocks jump to 03:00 EDT (UTC-4); on Sun 1 Nov 2026 they fall back from
02:00 EDT to 01:00 EST, so 01:00-02:00 local happens twice.
"""

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from bot.booking.scheduling import (
    NavigatorSchedule,
    format_moment,
    next_on_duty,
    on_duty,
    working_spans,
)

NEW_YORK = "America/New_York"
NINE_TO_FIVE = [(time(9), time(17))]
WEEKDAYS = {weekday: NINE_TO_FIVE for weekday in range(5)}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def new_york(
    weekly: dict[int, list[tuple[time, time]]] | None = None, **kwargs: Any
) -> NavigatorSchedule:
    """A navigator in New York, Mon-Fri 09:00-17:00 unless told otherwise."""
    return NavigatorSchedule(1, NEW_YORK, WEEKDAYS if weekly is None else weekly, **kwargs)


# --- inside and outside the weekly windows -------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 1, 12, 13, 59), False),  # Mon 08:59 EST
        (utc(2026, 1, 12, 14, 0), True),  # Mon 09:00 EST: a window includes its start
        (utc(2026, 1, 12, 21, 59), True),  # Mon 16:59 EST
        (utc(2026, 1, 12, 22, 0), False),  # Mon 17:00 EST: and excludes its end
        (utc(2026, 1, 10, 15, 0), False),  # Sat 10:00 EST: no window on weekends
    ],
)
def test_on_duty_inside_and_outside_the_window(moment: datetime, expected: bool) -> None:
    """A window is half-open, in the navigator's own zone."""
    assert on_duty(new_york(), moment) is expected


def test_on_duty_accepts_any_aware_zone_and_refuses_naive_times() -> None:
    """The same instant written in another zone gives the same answer; naive times are refused."""
    tokyo = timezone(timedelta(hours=9))
    assert on_duty(new_york(), datetime(2026, 1, 13, 0, 30, tzinfo=tokyo))  # Mon 10:30 EST
    with pytest.raises(ValueError, match="timezone-aware"):
        on_duty(new_york(), datetime(2026, 1, 12, 15, 0))


def test_a_split_day_has_a_gap_at_lunch() -> None:
    """Between two windows of one day the navigator is off duty."""
    split = new_york({0: [(time(9), time(12)), (time(13), time(17))]})
    assert on_duty(split, utc(2026, 1, 12, 16, 59))  # 11:59
    assert not on_duty(split, utc(2026, 1, 12, 17, 30))  # 12:30
    assert on_duty(split, utc(2026, 1, 12, 18, 0))  # 13:00
    assert next_on_duty(split, utc(2026, 1, 12, 17, 30)) == utc(2026, 1, 12, 18, 0)


# --- daylight saving time ---------------------------------------------------------------------


def test_spring_forward_moves_the_window_an_hour_earlier_in_utc() -> None:
    """09:00 is 14:00 UTC on the Saturday before the change and 13:00 UTC on the Sunday."""
    every_day = new_york({weekday: NINE_TO_FIVE for weekday in range(7)})
    assert on_duty(every_day, utc(2026, 3, 7, 14, 0))  # Sat 09:00 EST
    assert not on_duty(every_day, utc(2026, 3, 7, 13, 30))  # Sat 08:30 EST
    assert on_duty(every_day, utc(2026, 3, 8, 13, 30))  # Sun 09:30 EDT
    assert not on_duty(every_day, utc(2026, 3, 8, 21, 0))  # Sun 17:00 EDT
    assert next_on_duty(every_day, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 8, 13, 0)


def test_spring_forward_window_across_the_gap_is_an_hour_shorter() -> None:
    """01:00-04:00 on the change day lasts two real hours: 06:00Z to 08:00Z."""
    night = new_york({6: [(time(1), time(4))]})
    assert working_spans(night, utc(2026, 3, 8), utc(2026, 3, 8, 23)) == [
        (utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 8, 0))
    ]
    assert not on_duty(night, utc(2026, 3, 8, 5, 59))
    assert on_duty(night, utc(2026, 3, 8, 7, 59))  # 03:59 EDT
    assert not on_duty(night, utc(2026, 3, 8, 8, 0))  # 04:00 EDT


def test_window_edges_inside_the_gap_are_the_instant_of_the_jump() -> None:
    """02:30 never happens on 8 Mar: a window opening then opens at 03:00 EDT (07:00Z)."""
    opens_in_gap = new_york({6: [(time(2, 30), time(5))]})
    assert not on_duty(opens_in_gap, utc(2026, 3, 8, 6, 59))  # 01:59 EST
    assert on_duty(opens_in_gap, utc(2026, 3, 8, 7, 0))  # 03:00 EDT
    assert next_on_duty(opens_in_gap, utc(2026, 3, 8, 4)) == utc(2026, 3, 8, 7, 0)
    closes_in_gap = new_york({6: [(time(1), time(2, 30))]})
    assert working_spans(closes_in_gap, utc(2026, 3, 8), utc(2026, 3, 9)) == [
        (utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0))
    ]


def test_fall_back_window_across_the_repeat_is_an_hour_longer() -> None:
    """00:00-03:00 on 1 Nov lasts four real hours: 04:00Z (EDT) to 08:00Z (EST)."""
    night = new_york({6: [(time(0), time(3))]})
    assert working_spans(night, utc(2026, 11, 1), utc(2026, 11, 1, 23)) == [
        (utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 8, 0))
    ]
    assert on_duty(night, utc(2026, 11, 1, 5, 30))  # 01:30 EDT
    assert on_duty(night, utc(2026, 11, 1, 6, 30))  # 01:30 EST, the second time round
    assert on_duty(night, utc(2026, 11, 1, 7, 59))  # 02:59 EST
    assert not on_duty(night, utc(2026, 11, 1, 8, 0))  # 03:00 EST


def test_fall_back_window_starting_in_the_repeat_opens_at_its_first_occurrence() -> None:
    """01:30 happens twice on 1 Nov: the window opens at the first, 05:30Z (EDT)."""
    repeat = new_york({6: [(time(1, 30), time(4))]})
    assert next_on_duty(repeat, utc(2026, 11, 1, 0)) == utc(2026, 11, 1, 5, 30)
    assert not on_duty(repeat, utc(2026, 11, 1, 5, 29))
    assert on_duty(repeat, utc(2026, 11, 1, 8, 59))  # 03:59 EST
    assert not on_duty(repeat, utc(2026, 11, 1, 9, 0))  # 04:00 EST


def test_after_fall_back_nine_is_fourteen_utc_again() -> None:
    """The Monday after the change: 09:00 EST is 14:00Z, as shown in other zones."""
    back = next_on_duty(new_york(), utc(2026, 10, 31, 12))  # Saturday
    assert back == utc(2026, 11, 2, 14, 0)
    assert format_moment(back, NEW_YORK) == "Mon 2 Nov, 9:00 AM EST"
    assert format_moment(back, "Europe/London") == "Mon 2 Nov, 2:00 PM GMT"
    assert format_moment(utc(2026, 3, 8, 7, 0), NEW_YORK) == "Sun 8 Mar, 3:00 AM EDT"


# --- overrides and time off -------------------------------------------------------------------


def test_a_date_override_closes_a_working_day() -> None:
    """An empty override replaces the day's windows: closed all day, back the next morning."""
    closed = new_york(overrides={date(2026, 1, 12): []})
    assert not on_duty(closed, utc(2026, 1, 12, 15, 0))  # Mon 10:00 EST
    assert on_duty(closed, utc(2026, 1, 13, 15, 0))  # Tue 10:00 EST
    assert next_on_duty(closed, utc(2026, 1, 12, 15, 0)) == utc(2026, 1, 13, 14, 0)


def test_a_date_override_can_open_a_weekend_day() -> None:
    """Override hours on a Saturday apply to that date only."""
    saturday = new_york(overrides={date(2026, 1, 10): [(time(10), time(12))]})
    assert on_duty(saturday, utc(2026, 1, 10, 15, 30))  # Sat 10:30 EST
    assert not on_duty(saturday, utc(2026, 1, 17, 15, 30))  # the next Saturday


def test_time_off_is_cut_out_of_the_window() -> None:
    """Off 11:00-14:00 on Monday: on duty before and after, not during."""
    off = (utc(2026, 1, 12, 16, 0), utc(2026, 1, 12, 19, 0))
    away = new_york(time_off=[off])
    assert on_duty(away, utc(2026, 1, 12, 15, 59))
    assert not on_duty(away, utc(2026, 1, 12, 16, 0))
    assert not on_duty(away, utc(2026, 1, 12, 18, 59))
    assert on_duty(away, utc(2026, 1, 12, 19, 0))
    assert next_on_duty(away, utc(2026, 1, 12, 17, 0)) == utc(2026, 1, 12, 19, 0)
    assert working_spans(away, utc(2026, 1, 12), utc(2026, 1, 12, 23)) == [
        (utc(2026, 1, 12, 14, 0), utc(2026, 1, 12, 16, 0)),
        (utc(2026, 1, 12, 19, 0), utc(2026, 1, 12, 22, 0)),
    ]


# --- when they are next on duty -----------------------------------------------------------------


def test_next_on_duty_is_now_while_on_duty() -> None:
    """On duty already: the answer is the moment itself, in UTC."""
    eastern = timezone(timedelta(hours=-5))
    moment = datetime(2026, 1, 12, 10, 30, tzinfo=eastern)
    back = next_on_duty(new_york(), moment)
    assert back == utc(2026, 1, 12, 15, 30)
    assert back.tzinfo == timezone.utc


def test_next_on_duty_skips_the_weekend() -> None:
    """From Friday evening, Saturday or Sunday: Monday 09:00 EST."""
    monday_nine = utc(2026, 1, 12, 14, 0)
    assert next_on_duty(new_york(), utc(2026, 1, 9, 22, 0)) == monday_nine  # Fri 17:00
    assert next_on_duty(new_york(), utc(2026, 1, 10, 15, 0)) == monday_nine  # Sat 10:00
    assert next_on_duty(new_york(), utc(2026, 1, 12, 13, 59)) == monday_nine  # Mon 08:59


def test_nothing_within_the_horizon_is_none() -> None:
    """No hours, or off for the whole horizon: None; the horizon bounds the search."""
    friday_evening = utc(2026, 1, 9, 22, 0)
    assert next_on_duty(new_york(), friday_evening, days=2) is None
    assert next_on_duty(new_york(), friday_evening, days=3) == utc(2026, 1, 12, 14, 0)
    assert next_on_duty(new_york({}), friday_evening) is None
    away = new_york(time_off=[(friday_evening, friday_evening + timedelta(days=30))])
    assert next_on_duty(away, friday_evening) is None
    assert next_on_duty(away, friday_evening, days=31) == utc(2026, 2, 9, 14, 0)
