"""Free intro-call slots: windows, notice, buffers, time off, overrides, paging and DST.

Every expected UTC instant below was worked out by hand from the zone's offset on that date
(e.g. America/Denver is UTC-7 in December, so 09:00 MST == 16:00Z).
"""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.booking.scheduling import (
    NavigatorSchedule,
    Policy,
    Slot,
    format_slot,
    free_slots,
    parse_timezone,
)

NINE_TO_FIVE = [(time(9), time(17))]
WEEKDAYS = {weekday: NINE_TO_FIVE for weekday in range(5)}
DENVER = ZoneInfo("America/Denver")
QUARTER = timedelta(minutes=15)
NO_NOTICE = Policy(min_notice=timedelta(0))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def starts(slots: list[Slot]) -> list[datetime]:
    """Start instants of the slots, in order."""
    return [slot.start for slot in slots]


def quarter_hours(first: datetime, last: datetime) -> list[datetime]:
    """Every quarter hour from `first` to `last` inclusive."""
    return [first + QUARTER * k for k in range(int((last - first) / QUARTER) + 1)]


def denver(navigator_id: int = 1, **kwargs) -> NavigatorSchedule:
    """A Mon-Fri 09:00-17:00 navigator in America/Denver (UTC-7 in December)."""
    return NavigatorSchedule(navigator_id, "America/Denver", WEEKDAYS, **kwargs)


# --- weekly windows in the navigator's zone, shown in other zones ---------------------------


def test_weekly_window_opens_at_local_nine_and_is_shown_in_visitor_zones():
    slots = free_slots([denver()], [], utc(2024, 11, 30, 12), count=3)  # Saturday

    assert slots == [
        Slot(1, utc(2024, 12, 2, 16, 0), utc(2024, 12, 2, 16, 15)),
        Slot(1, utc(2024, 12, 2, 16, 15), utc(2024, 12, 2, 16, 30)),
        Slot(1, utc(2024, 12, 2, 16, 30), utc(2024, 12, 2, 16, 45)),
    ]
    assert format_slot(slots[0], "America/Denver") == "Mon 2 Dec, 9:00 AM MST"
    assert format_slot(slots[0], "America/New_York") == "Mon 2 Dec, 11:00 AM EST"
    assert format_slot(slots[0], "America/Los_Angeles") == "Mon 2 Dec, 8:00 AM PST"
    assert format_slot(slots[0], "Asia/Tokyo") == "Tue 3 Dec, 1:00 AM JST"


def test_last_slot_of_the_day_ends_at_window_close_then_next_weekday_follows():
    slots = free_slots(
        [denver()], [], utc(2024, 12, 2, 12), after=utc(2024, 12, 2, 23, 30), count=3
    )

    # 16:30 and 16:45 MST, then Tuesday 09:00 MST; nothing starts at 17:00 MST (00:00Z).
    assert starts(slots) == [
        utc(2024, 12, 2, 23, 30),
        utc(2024, 12, 2, 23, 45),
        utc(2024, 12, 3, 16),
    ]


def test_half_hour_offset_zone_window():
    kolkata = NavigatorSchedule(4, "Asia/Kolkata", WEEKDAYS)  # UTC+05:30, no DST

    slots = free_slots([kolkata], [], utc(2024, 12, 1, 12), count=2)

    assert starts(slots) == [utc(2024, 12, 2, 3, 30), utc(2024, 12, 2, 3, 45)]
    assert format_slot(slots[0], "Europe/London") == "Mon 2 Dec, 3:30 AM GMT"


# --- minimum notice -----------------------------------------------------------------------------


def test_min_notice_pushes_first_slot_to_next_grid_time():
    now = utc(2024, 12, 3, 16, 20)  # Tue 09:20 MST; earliest start 11:20 MST

    assert free_slots([denver()], [], now, count=1)[0].start == utc(2024, 12, 3, 18, 30)


def test_min_notice_boundary_is_inclusive():
    now = utc(2024, 12, 3, 16, 30)  # earliest start exactly 11:30 MST

    assert free_slots([denver()], [], now, count=1)[0].start == utc(2024, 12, 3, 18, 30)


def test_zero_notice_offers_the_next_grid_time():
    now = utc(2024, 12, 3, 16, 20)

    assert free_slots([denver()], [], now, count=1, policy=NO_NOTICE)[0].start == utc(
        2024, 12, 3, 16, 30
    )


def test_after_earlier_than_min_notice_is_ignored():
    now = utc(2024, 12, 3, 16, 20)

    assert free_slots([denver()], [], now, after=now - timedelta(days=1)) == free_slots(
        [denver()], [], now
    )


# --- buffers around existing bookings -----------------------------------------------------------


BOOKING = Slot(  # 11:30-11:45 MST on Tue 3 Dec, given in local time
    1,
    datetime(2024, 12, 3, 11, 30, tzinfo=DENVER),
    datetime(2024, 12, 3, 11, 45, tzinfo=DENVER),
)
OTHER_NAVIGATOR_BOOKING = Slot(99, utc(2024, 12, 3, 18), utc(2024, 12, 3, 19))


def test_booking_is_normalised_to_utc():
    assert BOOKING.start == utc(2024, 12, 3, 18, 30)
    assert BOOKING.start.tzinfo == timezone.utc


@pytest.mark.parametrize(
    ("buffer_minutes", "expected"),
    [
        # 10 min blocks [18:20, 18:55): 18:15 ends too late, 18:45 starts too early.
        (10, [(17, 45), (18, 0), (19, 0), (19, 15)]),
        # no buffer: only the booked quarter hour itself is gone.
        (0, [(17, 45), (18, 0), (18, 15), (18, 45)]),
        # 20 min blocks [18:10, 19:05): 18:00 ends at 18:15, inside the buffer.
        (20, [(17, 45), (19, 15), (19, 30), (19, 45)]),
    ],
)
def test_buffer_around_existing_booking(buffer_minutes, expected):
    policy = Policy(buffer=timedelta(minutes=buffer_minutes))

    slots = free_slots(
        [denver()],
        [BOOKING, OTHER_NAVIGATOR_BOOKING],
        utc(2024, 12, 3, 6),
        after=utc(2024, 12, 3, 17, 45),
        count=4,
        policy=policy,
    )

    assert starts(slots) == [utc(2024, 12, 3, h, m) for h, m in expected]


def test_no_offered_slot_overlaps_a_buffered_booking():
    bookings = [Slot(1, utc(2024, 12, 3, h, 0), utc(2024, 12, 3, h, 30)) for h in (16, 18, 20)]

    slots = free_slots([denver()], bookings, utc(2024, 12, 3, 6), count=50)

    assert len(slots) == 50
    buffer = Policy().buffer
    for slot in slots:
        for booking in bookings:
            assert slot.end <= booking.start - buffer or slot.start >= booking.end + buffer


# --- time off -----------------------------------------------------------------------------------


def test_time_off_spanning_days():
    time_off = [  # Wed 12:00 MST (19:00Z) to Fri 10:00 MST (17:00Z)
        (datetime(2024, 12, 4, 12, tzinfo=DENVER), datetime(2024, 12, 6, 10, tzinfo=DENVER))
    ]

    slots = free_slots(
        [denver(time_off=time_off)],
        [],
        utc(2024, 12, 4, 6),
        after=utc(2024, 12, 4, 18, 30),
        count=3,
    )

    # Time off is not buffered: a slot may end as it starts and start as it ends.
    assert starts(slots) == [
        utc(2024, 12, 4, 18, 30),
        utc(2024, 12, 4, 18, 45),
        utc(2024, 12, 6, 17),
    ]


# --- date overrides -----------------------------------------------------------------------------


def test_overrides_close_a_day_set_special_hours_and_open_a_weekend():
    overrides = {
        date(2024, 12, 5): [],  # Thursday closed
        date(2024, 12, 6): [(time(12, 10), time(13))],  # Friday: grid starts at 12:15
        date(2024, 12, 7): [(time(10), time(10, 30))],  # Saturday: extra half hour
    }

    slots = free_slots(
        [denver(overrides=overrides)],
        [],
        utc(2024, 12, 4, 6),
        after=utc(2024, 12, 4, 23, 45),
        count=7,
    )

    assert starts(slots) == [
        utc(2024, 12, 4, 23, 45),  # Wed 16:45 MST (weekly hours)
        utc(2024, 12, 6, 19, 15),  # Fri 12:15 MST
        utc(2024, 12, 6, 19, 30),
        utc(2024, 12, 6, 19, 45),  # ends 13:00 MST
        utc(2024, 12, 7, 17, 0),  # Sat 10:00 MST
        utc(2024, 12, 7, 17, 15),
        utc(2024, 12, 9, 16, 0),  # Mon 09:00 MST
    ]


# --- horizon ------------------------------------------------------------------------------------


def test_short_horizon_cuts_off_mid_day():
    policy = Policy(min_notice=timedelta(0), horizon=timedelta(hours=26))  # until Tue 18:00Z

    slots = free_slots([denver()], [], utc(2024, 12, 2, 16), count=100, policy=policy)

    assert starts(slots) == quarter_hours(utc(2024, 12, 2, 16), utc(2024, 12, 2, 23, 45)) + (
        quarter_hours(utc(2024, 12, 3, 16), utc(2024, 12, 3, 17, 45))
    )


def test_default_horizon_is_21_days_and_exclusive():
    now = utc(2024, 12, 2, 16, 30)  # horizon ends Mon 23 Dec 16:30Z (09:30 MST)

    slots = free_slots([denver()], [], now, count=10_000)

    assert slots[0].start == utc(2024, 12, 2, 18, 30)
    assert starts(slots[-3:]) == [
        utc(2024, 12, 20, 23, 45),
        utc(2024, 12, 23, 16, 0),
        utc(2024, 12, 23, 16, 15),
    ]
    # Mon 2 Dec from 11:30 MST (22) + 14 full weekdays (32 each) + Mon 23 Dec (2).
    assert len(slots) == 22 + 14 * 32 + 2


# --- paging with `after` and several navigators --------------------------------------------------


def test_paging_with_after_continues_without_repeats_or_gaps():
    new_york = NavigatorSchedule(2, "America/New_York", WEEKDAYS)  # 09:00 EST == 14:00Z
    schedules = [denver(1), new_york]
    booked = [Slot(2, utc(2024, 12, 2, 14, 30), utc(2024, 12, 2, 14, 45))]
    now = utc(2024, 12, 2, 12)

    first = free_slots(schedules, booked, now)
    second = free_slots(schedules, booked, now, after=first[-1].end)
    third = free_slots(schedules, booked, now, after=second[-1].end)

    # New York's booking blocks 14:15-14:45 (buffer to 14:55); only New York works before 16:00Z.
    assert [(s.navigator_id, s.start) for s in first] == [
        (2, utc(2024, 12, 2, 14, 0)),
        (2, utc(2024, 12, 2, 15, 0)),
        (2, utc(2024, 12, 2, 15, 15)),
        (2, utc(2024, 12, 2, 15, 30)),
        (2, utc(2024, 12, 2, 15, 45)),
    ]
    # From 16:00Z both are free; Denver has fewer bookings that day, so Denver is offered.
    assert [(s.navigator_id, s.start) for s in second] == [
        (1, t) for t in quarter_hours(utc(2024, 12, 2, 16), utc(2024, 12, 2, 17))
    ]
    assert first + second + third == free_slots(schedules, booked, now, count=15)
    assert len({s.start for s in first + second + third}) == 15


def test_simultaneous_navigators_yield_one_slot_per_start_fewest_bookings_then_lowest_id():
    schedules = [denver(3), denver(1), denver(2)]
    booked = [
        Slot(1, utc(2024, 12, 3, 16), utc(2024, 12, 3, 16, 15)),
        Slot(1, utc(2024, 12, 3, 17), utc(2024, 12, 3, 17, 15)),
        Slot(2, utc(2024, 12, 3, 17), utc(2024, 12, 3, 17, 15)),
        Slot(3, utc(2024, 12, 3, 16), utc(2024, 12, 3, 16, 15)),
    ]
    now = utc(2024, 12, 3, 6)

    tuesday = free_slots(schedules, booked, now, after=utc(2024, 12, 3, 16), count=4)
    afternoon = free_slots(schedules, booked, now, after=utc(2024, 12, 3, 20), count=1)
    wednesday = free_slots(schedules, booked, now, after=utc(2024, 12, 4, 16), count=1)

    assert [(s.navigator_id, s.start) for s in tuesday] == [
        (2, utc(2024, 12, 3, 16, 0)),  # only 2 is clear of buffers
        (2, utc(2024, 12, 3, 16, 15)),  # only 2
        (2, utc(2024, 12, 3, 16, 30)),  # 1 (2 bookings), 2 and 3 (1 each): lowest id wins
        (3, utc(2024, 12, 3, 16, 45)),  # 1 and 2 are inside the 17:00 booking's buffer
    ]
    assert afternoon[0].navigator_id == 2
    assert wednesday == [Slot(1, utc(2024, 12, 4, 16), utc(2024, 12, 4, 16, 15))]


def test_ten_navigators_in_two_zones_over_the_full_horizon():
    new_york = [NavigatorSchedule(i, "America/New_York", WEEKDAYS) for i in range(1, 6)]
    denvers = [denver(i) for i in range(6, 11)]

    slots = free_slots(new_york + denvers, [], utc(2024, 12, 2, 12), count=10_000)

    # Each of 15 weekdays: New York 14:00-21:45Z plus Denver-only 22:00-23:45Z.
    assert len(slots) == 15 * 40
    assert len({s.start for s in slots}) == len(slots)
    assert starts(slots) == sorted(starts(slots))
    monday = [s for s in slots if s.start.date() == date(2024, 12, 2)]
    assert [s.start for s in monday] == quarter_hours(
        utc(2024, 12, 2, 14), utc(2024, 12, 2, 23, 45)
    )
    assert {s.navigator_id for s in monday if s.start.hour < 22} == {1}
    assert {s.navigator_id for s in monday if s.start.hour >= 22} == {6}


# --- DST ----------------------------------------------------------------------------------------


def weekend_new_york(**kwargs) -> NavigatorSchedule:
    """A Sat/Sun 09:00-17:00 navigator in America/New_York."""
    return NavigatorSchedule(7, "America/New_York", {5: NINE_TO_FIVE, 6: NINE_TO_FIVE}, **kwargs)


@pytest.mark.parametrize(
    ("saturday", "saturday_open_utc", "sunday_open_utc", "sunday_first", "sunday_last"),
    [
        # Spring forward Sun 10 Mar 2024: Sat is EST (UTC-5), Sun is EDT (UTC-4).
        (
            date(2024, 3, 9),
            utc(2024, 3, 9, 14),
            utc(2024, 3, 10, 13),
            "Sun 10 Mar, 9:00 AM EDT",
            "Sun 10 Mar, 4:45 PM EDT",
        ),
        # Fall back Sun 3 Nov 2024: Sat is EDT (UTC-4), Sun is EST (UTC-5).
        (
            date(2024, 11, 2),
            utc(2024, 11, 2, 13),
            utc(2024, 11, 3, 14),
            "Sun 3 Nov, 9:00 AM EST",
            "Sun 3 Nov, 4:45 PM EST",
        ),
    ],
)
def test_nine_to_five_stays_nine_to_five_local_on_dst_change_day(
    saturday, saturday_open_utc, sunday_open_utc, sunday_first, sunday_last
):
    now = datetime.combine(saturday, time(), tzinfo=timezone.utc)
    policy = Policy(min_notice=timedelta(0), horizon=timedelta(days=3))

    slots = free_slots([weekend_new_york()], [], now, count=1000, policy=policy)

    last_quarter = timedelta(hours=7, minutes=45)
    assert starts(slots) == quarter_hours(
        saturday_open_utc, saturday_open_utc + last_quarter
    ) + quarter_hours(sunday_open_utc, sunday_open_utc + last_quarter)
    assert format_slot(slots[32], "America/New_York") == sunday_first
    assert format_slot(slots[-1], "America/New_York") == sunday_last


def overnight(day: date, *windows: tuple[time, time]) -> list[datetime]:
    """All free starts of a New York navigator whose only hours are `windows` on `day`."""
    schedule = NavigatorSchedule(7, "America/New_York", {}, overrides={day: list(windows)})
    now = datetime.combine(day - timedelta(days=1), time(), tzinfo=timezone.utc)
    return starts(free_slots([schedule], [], now, count=100, policy=NO_NOTICE))


SPRING = date(2024, 3, 10)  # 02:00 EST (07:00Z) jumps to 03:00 EDT
FALL = date(2024, 11, 3)  # 02:00 EDT (06:00Z) falls back to 01:00 EST


def test_spring_forward_gap_times_are_skipped():
    # 01:00-01:45 EST == 06:00-06:45Z; 02:00-02:45 never happen; 03:00-03:45 EDT == 07:00-07:45Z.
    expected = quarter_hours(utc(2024, 3, 10, 6), utc(2024, 3, 10, 7, 45))

    assert overnight(SPRING, (time(1), time(4))) == expected
    labels = [format_slot(Slot(7, t, t + QUARTER), "America/New_York") for t in expected]
    assert labels[3:5] == ["Sun 10 Mar, 1:45 AM EST", "Sun 10 Mar, 3:00 AM EDT"]


def test_window_edges_inside_the_spring_forward_gap_mean_the_jump():
    # An edge at 02:30, which the clock never shows, means the jump itself (07:00Z).
    assert overnight(SPRING, (time(1), time(2, 30))) == quarter_hours(
        utc(2024, 3, 10, 6), utc(2024, 3, 10, 6, 45)
    )
    assert overnight(SPRING, (time(2, 30), time(4))) == quarter_hours(
        utc(2024, 3, 10, 7), utc(2024, 3, 10, 7, 45)
    )
    assert overnight(SPRING, (time(2, 10), time(2, 50))) == []


def test_fall_back_repeated_hour_is_offered_once():
    # 00:00-01:45 EDT == 04:00-05:45Z; the repeated 01:00-01:45 EST (06:00-06:45Z) is skipped;
    # 02:00-02:45 EST == 07:00-07:45Z.
    expected = quarter_hours(utc(2024, 11, 3, 4), utc(2024, 11, 3, 5, 45)) + quarter_hours(
        utc(2024, 11, 3, 7), utc(2024, 11, 3, 7, 45)
    )

    got = overnight(FALL, (time(0), time(3)))

    assert got == expected
    labels = [format_slot(Slot(7, t, t + QUARTER), "America/New_York") for t in got]
    assert len(set(labels)) == len(labels) == 12
    assert labels[7:9] == ["Sun 3 Nov, 1:45 AM EDT", "Sun 3 Nov, 2:00 AM EST"]


def test_ambiguous_window_edges_use_the_first_occurrence():
    # 01:30 means 01:30 EDT (05:30Z), the first time the clock reads 01:30.
    assert overnight(FALL, (time(0), time(1, 30))) == quarter_hours(
        utc(2024, 11, 3, 4), utc(2024, 11, 3, 5, 15)
    )
    assert overnight(FALL, (time(1, 30), time(3))) == [
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 3, 5, 45),
        *quarter_hours(utc(2024, 11, 3, 7), utc(2024, 11, 3, 7, 45)),
    ]


LONDON = NavigatorSchedule(
    8,
    "Europe/London",
    WEEKDAYS,
    overrides={date(2024, 3, 31): NINE_TO_FIVE},  # also works the Sunday BST starts
)


@pytest.mark.parametrize(
    ("after", "expected_start", "los_angeles_text"),
    [
        # Both on standard time: 09:00 GMT == 09:00Z == 01:00 PST.
        (utc(2024, 3, 8), utc(2024, 3, 8, 9), "Fri 8 Mar, 1:00 AM PST"),
        # US on DST (10 Mar), UK not yet: 09:00 GMT == 09:00Z == 02:00 PDT.
        (utc(2024, 3, 11), utc(2024, 3, 11, 9), "Mon 11 Mar, 2:00 AM PDT"),
        (utc(2024, 3, 29), utc(2024, 3, 29, 9), "Fri 29 Mar, 2:00 AM PDT"),
        # BST starts Sun 31 Mar at 01:00 GMT: 09:00 BST == 08:00Z == 01:00 PDT.
        (utc(2024, 3, 30), utc(2024, 3, 31, 8), "Sun 31 Mar, 1:00 AM PDT"),
        (utc(2024, 3, 31, 15, 50), utc(2024, 4, 1, 8), "Mon 1 Apr, 1:00 AM PDT"),
        # BST ends Sun 27 Oct, US DST on 3 Nov.
        (utc(2024, 10, 25), utc(2024, 10, 25, 8), "Fri 25 Oct, 1:00 AM PDT"),
        (utc(2024, 10, 26), utc(2024, 10, 28, 9), "Mon 28 Oct, 2:00 AM PDT"),
        (utc(2024, 11, 2), utc(2024, 11, 4, 9), "Mon 4 Nov, 1:00 AM PST"),
    ],
)
def test_london_navigator_offered_to_los_angeles_visitor(after, expected_start, los_angeles_text):
    now = after - timedelta(days=1)

    [slot] = free_slots([LONDON], [], now, after=after, count=1)

    assert slot == Slot(8, expected_start, expected_start + QUARTER)
    assert format_slot(slot, "America/Los_Angeles") == los_angeles_text


def test_london_changeover_sunday_has_a_full_local_day():
    slots = free_slots([LONDON], [], utc(2024, 3, 30), after=utc(2024, 3, 31), count=40)

    sunday = [s for s in slots if s.start.date() == date(2024, 3, 31)]
    assert starts(sunday) == quarter_hours(utc(2024, 3, 31, 8), utc(2024, 3, 31, 15, 45))
    assert format_slot(sunday[-1], "Europe/London") == "Sun 31 Mar, 4:45 PM BST"
    assert format_slot(sunday[-1], "America/Los_Angeles") == "Sun 31 Mar, 8:45 AM PDT"


# --- aware datetimes only -----------------------------------------------------------------------


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        free_slots([denver()], [], datetime(2024, 12, 3, 9))


def test_naive_after_is_rejected():
    with pytest.raises(ValueError, match="after must be a timezone-aware datetime"):
        free_slots([denver()], [], utc(2024, 12, 3), after=datetime(2024, 12, 4, 9))


def test_naive_booking_and_time_off_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        Slot(1, datetime(2024, 12, 3, 9), datetime(2024, 12, 3, 9, 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        denver(time_off=[(datetime(2024, 12, 3), datetime(2024, 12, 4))])


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "windows",
    [
        [(time(17), time(9))],
        [(time(9), time(9))],
        [(time(9), time(12)), (time(11), time(13))],
    ],
)
def test_invalid_windows_are_rejected(windows):
    with pytest.raises(ValueError, match="navigator 1 weekday 0"):
        NavigatorSchedule(1, "America/Denver", {0: windows})


def test_time_off_ending_before_it_starts_is_rejected():
    with pytest.raises(ValueError, match="time_off must end after it starts"):
        denver(time_off=[(utc(2024, 12, 4), utc(2024, 12, 3))])


def test_duplicate_navigator_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate navigator ids"):
        free_slots([denver(1), denver(1)], [], utc(2024, 12, 3))


def test_invalid_policy_is_rejected():
    with pytest.raises(ValueError, match="positive"):
        Policy(step=timedelta(0))
    with pytest.raises(ValueError, match="negative"):
        Policy(buffer=timedelta(minutes=-5))


def test_zero_count_and_no_schedules_give_no_slots():
    assert free_slots([denver()], [], utc(2024, 12, 3), count=0) == []
    assert free_slots([], [], utc(2024, 12, 3)) == []


# --- time zones and formatting ------------------------------------------------------------------


def test_parse_timezone_accepts_iana_names():
    assert parse_timezone("America/Denver") == DENVER
    assert parse_timezone(" Europe/London ").key == "Europe/London"


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "", "   ", "America", "../etc", "/etc/x"])
def test_parse_timezone_rejects_unknown_zones_with_clear_message(value):
    with pytest.raises(ValueError, match=r"Unknown time zone .*IANA name"):
        parse_timezone(value)


def test_schedule_with_unknown_zone_is_rejected():
    with pytest.raises(ValueError, match="Unknown time zone 'Mountain'"):
        NavigatorSchedule(1, "Mountain", WEEKDAYS)


@pytest.mark.parametrize(
    ("start", "text"),
    [
        (utc(2024, 12, 3, 15, 15), "Tue 3 Dec, 10:15 AM EST"),
        (utc(2024, 7, 2, 14, 15), "Tue 2 Jul, 10:15 AM EDT"),
        (utc(2024, 12, 3, 17), "Tue 3 Dec, 12:00 PM EST"),
        (utc(2024, 12, 3, 5), "Tue 3 Dec, 12:00 AM EST"),
        (utc(2024, 12, 4, 4, 59), "Tue 3 Dec, 11:59 PM EST"),
        (utc(2024, 3, 10, 6, 45), "Sun 10 Mar, 1:45 AM EST"),
        (utc(2024, 3, 10, 7), "Sun 10 Mar, 3:00 AM EDT"),
        (utc(2024, 11, 3, 5, 30), "Sun 3 Nov, 1:30 AM EDT"),
        (utc(2024, 11, 3, 6, 30), "Sun 3 Nov, 1:30 AM EST"),
    ],
)
def test_format_slot_in_new_york_across_dst(start, text):
    assert format_slot(Slot(1, start, start + QUARTER), "America/New_York") == text


def test_format_slot_rejects_unknown_zone():
    slot = Slot(1, utc(2024, 12, 3, 15), utc(2024, 12, 3, 15, 15))
    with pytest.raises(ValueError, match="Unknown time zone 'Eastern'"):
        format_slot(slot, "Eastern")
