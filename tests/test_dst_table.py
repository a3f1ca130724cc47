"""A fixed table of DST cases, in the four zones the rule is documented for."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from moonshift.timing import Cron, Interval, Once, WallKind, Window, WindowSet, resolve
from moonshift.timing.windows import parse_days


def z(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def fires(expression: str, zone: str, start: datetime, end: datetime) -> list[str]:
    tz = z(zone)
    return [
        f.astimezone(tz).strftime("%m-%d %H:%M%z")
        for f in Cron(expression, zone).fire_times(start, end)
    ]


# (zone, a day with a gap, the local time in the gap, where it fires)
GAPS = [
    ("America/New_York", "2026-03-08", "30 2", "03-08 03:00-0400"),
    ("Europe/Berlin", "2026-03-29", "30 2", "03-29 03:00+0200"),
    ("Australia/Lord_Howe", "2026-10-04", "15 2", "10-04 02:30+1100"),
    ("UTC", "2026-03-08", "30 2", "03-08 02:30+0000"),
]


# (zone, the day clocks go back, a repeated local time, its first occurrence)
OVERLAPS = [
    ("America/New_York", "2026-11-01", "30 1", "11-01 01:30-0400"),
    ("Europe/Berlin", "2026-10-25", "30 2", "10-25 02:30+0200"),
    ("Australia/Lord_Howe", "2026-04-05", "45 1", "04-05 01:45+1100"),
    ("UTC", "2026-11-01", "30 1", "11-01 01:30+0000"),
]


@pytest.mark.parametrize(("zone", "day", "when", "expected"), GAPS + OVERLAPS)
def test_a_skipped_or_repeated_time_fires_once(
    zone: str, day: str, when: str, expected: str
) -> None:
    """Skipped: right after the gap. Repeated: at the first occurrence. Daily, none lost."""
    start = datetime.fromisoformat(day).replace(tzinfo=z(zone)) - timedelta(days=1)
    got = fires(f"{when} * * *", zone, start, start + timedelta(days=3))
    assert got[1] == expected
    assert len(got) == 3


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (
            "America/New_York",
            "2026-11-01",
            ["00:30-0400", "01:00-0400", "01:30-0400", "01:00-0500", "01:30-0500", "02:00-0500"],
        ),
        (
            "Europe/Berlin",
            "2026-10-25",
            ["01:30+0200", "02:00+0200", "02:30+0200", "02:00+0100", "02:30+0100", "03:00+0100"],
        ),
        (
            "Australia/Lord_Howe",
            "2026-04-05",
            ["00:30+1100", "01:00+1100", "01:30+1100", "01:30+1030", "02:00+1030", "02:30+1030"],
        ),
        (
            "UTC",
            "2026-11-01",
            ["00:30+0000", "01:00+0000", "01:30+0000", "02:00+0000", "02:30+0000", "03:00+0000"],
        ),
    ],
)
def test_a_step_in_the_hour_runs_in_real_time_through_the_repeated_hour(
    zone: str, day: str, expected: list[str]
) -> None:
    tz = z(zone)
    first = datetime.fromisoformat(day).replace(tzinfo=tz)
    start = resolve(datetime.fromisoformat(expected[0][:5].join([f"{day}T", ":00"])), tz)[0]
    got = [
        f.astimezone(tz).strftime("%H:%M%z")
        for f in Cron("*/30 * * * *", zone).fire_times(start, first + timedelta(days=1))
    ]
    assert got[:6] == expected
    # in real time, every fire is exactly 30 minutes after the one before
    instants = list(Cron("*/30 * * * *", zone).fire_times(start, start + timedelta(hours=6)))
    assert {b - a for a, b in itertools.pairwise(instants)} == {timedelta(minutes=30)}


def test_a_fixed_hour_with_a_minute_step_fires_once_per_wall_minute() -> None:
    # Documented difference from Debian cron (and plain cronsim): the hour field decides.
    got = fires(
        "*/15 1 * * *",
        "America/New_York",
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    assert got == ["11-01 01:00-0400", "11-01 01:15-0400", "11-01 01:30-0400", "11-01 01:45-0400"]
    got = fires(
        "*/15 2 * * *",
        "America/New_York",
        datetime(2026, 3, 8, 5, tzinfo=UTC),
        datetime(2026, 3, 8, 12, tzinfo=UTC),
    )
    assert got == ["03-08 03:00-0400"]


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"]
)
def test_leap_day(zone: str) -> None:
    fire = Cron("0 12 29 2 *", zone).next_fire(datetime(2026, 6, 1, tzinfo=UTC))
    assert fire is not None
    assert fire.astimezone(z(zone)).replace(tzinfo=None) == datetime(2028, 2, 29, 12, 0)


def test_day_of_month_or_day_of_week() -> None:
    # Both restricted: either matches (the 13th, or any Friday).
    got = fires(
        "0 9 13 * FRI", "UTC", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    )
    assert got == ["11-06 09:00+0000", "11-13 09:00+0000", "11-20 09:00+0000", "11-27 09:00+0000"]


@pytest.mark.parametrize(
    ("zone", "night", "hours"),
    [
        ("America/New_York", "2026-10-31", 9),
        ("America/New_York", "2026-03-07", 7),
        ("Europe/Berlin", "2026-10-24", 9),
        ("Europe/Berlin", "2026-03-28", 7),
        ("Australia/Lord_Howe", "2026-04-04", 8.5),
        ("Australia/Lord_Howe", "2026-10-03", 7.5),
        ("UTC", "2026-10-31", 8),
    ],
)
def test_a_night_window_keeps_its_wall_clock_bounds(zone: str, night: str, hours: float) -> None:
    windows = WindowSet((Window("nightly", parse_days(["daily"]), time(22), time(6), zone),))
    opened = datetime.fromisoformat(f"{night}T23:00").replace(tzinfo=z(zone))
    span = windows.current(opened)
    assert span is not None and span.closes_at is not None
    assert span.opens_at.astimezone(z(zone)).strftime("%H:%M") == "22:00"
    assert span.closes_at.astimezone(z(zone)).strftime("%H:%M") == "06:00"
    assert span.closes_at - span.opens_at == timedelta(hours=hours)


def test_a_window_bound_in_the_gap_follows_the_rule() -> None:
    tz = z("America/New_York")
    windows = WindowSet(
        (Window("early", parse_days(["sun"]), time(2, 30), time(4), "America/New_York"),)
    )
    opening = windows.next_open(datetime(2026, 3, 7, tzinfo=tz))
    assert opening == datetime(2026, 3, 8, 3, 0, tzinfo=tz)


def test_windows_merge_when_they_touch_or_overlap() -> None:
    friday_night = Window("friday", parse_days(["fri"]), time(22), time(6))
    weekend = Window("weekend", parse_days(["sat"]), time(6), time(12))
    span = WindowSet((friday_night, weekend)).current(datetime(2026, 11, 27, 23, tzinfo=UTC))
    assert span is not None
    assert (span.opens_at.hour, span.closes_at) == (22, datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert span.names == ("friday", "weekend")


def test_freeze_days_cut_the_window() -> None:
    frozen = datetime(2026, 11, 28).date()
    windows = WindowSet(
        (
            Window(
                "nightly",
                parse_days(["daily"]),
                time(22),
                time(6),
                exclude_dates=frozenset({frozen}),
            ),
        )
    )
    assert windows.is_open(datetime(2026, 11, 27, 23, tzinfo=UTC))
    assert windows.closes_at(datetime(2026, 11, 27, 23, tzinfo=UTC)) == datetime(
        2026, 11, 28, tzinfo=UTC
    )
    assert windows.next_open(datetime(2026, 11, 28, 1, tzinfo=UTC)) == datetime(
        2026, 11, 29, 0, tzinfo=UTC
    )


def test_once_in_a_gap_and_an_overlap() -> None:
    gap = Once(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert (gap.wall_kind, gap.instant) == (WallKind.GAP, datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
    twice = Once(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert (twice.wall_kind, twice.instant) == (
        WallKind.OVERLAP,
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    )
    assert twice.next_fire(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) is None
    assert list(
        twice.fire_times(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    ) == [twice.instant]


def test_an_interval_is_never_stretched_by_dst() -> None:
    anchor = datetime(2026, 11, 1, 0, 0, tzinfo=z("America/New_York")).astimezone(UTC)
    fires_ = list(
        Interval(timedelta(hours=1), anchor).fire_times(anchor, anchor + timedelta(hours=5))
    )
    assert [f.astimezone(z("America/New_York")).strftime("%H:%M%z") for f in fires_] == [
        "00:00-0400",
        "01:00-0400",
        "01:00-0500",
        "02:00-0500",
        "03:00-0500",
    ]


def test_a_one_value_range_with_a_step_is_that_value() -> None:
    # cronsim reads "0-0/1" as "0/1" (every hour from 0); moonshift hands it explicit lists.
    got = fires(
        "* 0-0/1 * * *",
        "UTC",
        datetime(2024, 1, 1, 0, 58, tzinfo=UTC),
        datetime(2024, 1, 1, 3, tzinfo=UTC),
    )
    assert got == ["01-01 00:58+0000", "01-01 00:59+0000"]
