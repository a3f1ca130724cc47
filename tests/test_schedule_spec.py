"""The schedule, windows and window_behavior keys: errors name the field and the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.specfile import SpecFileError, load_files, load_text
from moonshift.timing import Cron, Event, Interval, Once
from tests.helpers import FakeClock

HEAD = "id: nightly\nkind: command\ncommand: echo hi\n"


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(SpecFileError) as raised:
        load_files([path], env={})
    return [str(p).split(": ", 1)[1] for p in raised.value.problems]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "schedule: {cron: '61 2 * * *'}",
            'schedule.cron: minute field "61": 61 is out of range 0-59',
        ),
        (
            "schedule: {cron: '0 2 * * FUNDAY'}",
            'schedule.cron: day-of-week field "FUNDAY": "FUNDAY" is not a number or a name like SUN',
        ),
        (
            "schedule: {cron: '0 2 * *'}",
            "schedule.cron: needs 5 fields (minute hour day-of-month month day-of-week), got 4",
        ),
        (
            "schedule: {cron: '0 5-2 * * *'}",
            'schedule.cron: hour field "5-2": range 5-2 is backwards',
        ),
        (
            "schedule: {cron: '0 0 31 2 *'}",
            'schedule.cron: day-of-month field "31": no month in "2" has day 31',
        ),
        (
            "schedule: {cron: '@fortnightly'}",
            'schedule.cron: unknown macro "@fortnightly"; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
        ),
        (
            "schedule: {cron: '0 2 * * *', timezone: America/New_Yrok}",
            'schedule.timezone: unknown time zone "America/New_Yrok"; did you mean America/New_York',
        ),
        (
            "schedule: {cron: '0 2 * * *', interval: 1h}",
            "schedule: give exactly one of immediate, start_at, cron, interval, event; got cron and interval",
        ),
        (
            "schedule: {timezone: UTC}",
            "schedule: give exactly one of immediate, start_at, cron, interval, event; got none",
        ),
        (
            "schedule: {interval: soon}",
            'schedule.interval: must be a duration like 30m, got "soon"',
        ),
        (
            "schedule: {start_at: tomorrow}",
            'schedule.start_at: must be a date and time like 2026-02-03T02:00:00, got "tomorrow"',
        ),
        ("windows: []", "windows: must list at least one window; leave it out to run at any time"),
        (
            "windows: [{name: w, days: [], start: 22:00, end: 06:00}]",
            "windows[0].days: must name at least one day",
        ),
        (
            "windows: [{name: w, days: [funday], start: 22:00, end: 06:00}]",
            'windows[0].days: "funday" is not a day; use mon..sun, weekdays, weekends or daily',
        ),
        (
            "windows: [{name: w, start: 25:00, end: 06:00}]",
            'windows[0].start: must be a time of day like 22:00, got "25:00"',
        ),
        (
            "windows: [{name: w, start: 22:00, end: 06:00, from: 2026-05-01, until: 2026-04-01}]",
            "windows[0].until: is before from (2026-05-01): the window never opens",
        ),
        (
            "window_behavior: {outside_window: wait}",
            'window_behavior.outside_window: must be one of pause, continue or fail, got "wait"',
        ),
    ],
)
def test_errors_name_the_field_and_reason(tmp_path: Path, body: str, expected: str) -> None:
    found = problems(tmp_path, body)
    assert any(p.startswith(expected) for p in found), found


def test_each_kind_of_schedule_becomes_its_trigger() -> None:
    def trigger(schedule: str) -> object:
        [spec] = load_text(HEAD + schedule)
        return spec.trigger()

    assert trigger("schedule: {cron: '@daily', timezone: Europe/Berlin}") == Cron(
        "@daily", "Europe/Berlin"
    )
    assert trigger("schedule: {interval: 1h30m}") == Interval(timedelta(minutes=90))
    assert trigger("schedule: {start_at: 2026-02-03T02:00:00, timezone: America/New_York}") == Once(
        datetime(2026, 2, 3, 2, 0), "America/New_York"
    )
    event = trigger("schedule: {event: {type: data_available, debounce: 60s, filter: {bucket: b}}}")
    assert isinstance(event, Event)
    assert event.matches("data_available", {"bucket": "b", "x": 1})
    assert not event.matches("data_available", {"bucket": "c"})
    assert trigger("schedule: {immediate: true}") is None


def test_seed_style_keys_and_unquoted_times_are_understood() -> None:
    [spec] = load_text(
        HEAD
        + "windows:\n  - {name: nightly_window, days: [monday, friday], start_time: 22:00, end_time: 06:00, timezone: America/New_York}\n"
        + "window_behavior: {outside_window: continue, window_ending_warning: 15m, complete_current_batch: false}\n"
    )
    windows = spec.window_set()
    assert windows is not None
    assert windows.windows[0].days == frozenset({0, 4})
    assert str(windows.windows[0].start) == "22:00:00"
    assert spec.behavior().ending_warning.total_seconds() == 900


def test_windows_default_to_the_schedule_zone() -> None:
    [spec] = load_text(
        HEAD
        + "schedule: {cron: '0 2 * * *', timezone: Asia/Tokyo}\nwindows: [{name: w, start: 22:00, end: 06:00}]\n"
    )
    windows = spec.window_set()
    assert windows is not None and windows.windows[0].timezone == "Asia/Tokyo"


def test_start_at_in_a_gap_or_overlap_is_a_warning_naming_the_instant(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD + "schedule: {start_at: 2026-03-08T02:30:00, timezone: America/New_York}\n"
    )
    [warning] = load_files([path], env={}).warnings
    assert str(warning) == (
        f"{path}:4: schedule.start_at: 2026-03-08 02:30 does not exist in America/New_York "
        "(clocks go forward); it will fire at 2026-03-08 03:00 EDT (07:00 UTC)"
    )
    path.write_text(
        HEAD + "schedule: {start_at: 2026-11-01T01:30:00, timezone: America/New_York}\n"
    )
    [warning] = load_files([path], env={}).warnings
    assert (
        "occurs twice in America/New_York (clocks go back); it will fire at the first, 2026-11-01 01:30 EDT (05:30 UTC)"
        in str(warning)
    )


def test_next_moves_runs_outside_the_nightly_window_to_its_opening(
    app: Moonshift, clock: FakeClock
) -> None:
    [spec] = load_text(
        HEAD
        + "schedule: {cron: '0 */6 * * *', timezone: America/New_York}\n"
        + "windows: [{name: nightly, days: [daily], start: 22:00, end: 06:00}]\n"
    )
    app.migrations.apply_spec(spec, actor="user:test")
    clock.current = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)  # 07:30 in New York
    up = app.schedules.upcoming("nightly", count=4)
    rows = [
        (d.due.isoformat(), d.start_at.isoformat() if d.start_at else None, d.delayed)
        for d in up.decisions
    ]
    assert rows == [
        ("2026-11-02T17:00:00+00:00", "2026-11-03T03:00:00+00:00", True),  # 12:00 -> 22:00
        ("2026-11-02T23:00:00+00:00", "2026-11-03T03:00:00+00:00", True),  # 18:00 -> 22:00
        ("2026-11-03T05:00:00+00:00", "2026-11-03T05:00:00+00:00", False),  # 00:00, inside
        ("2026-11-03T11:00:00+00:00", "2026-11-04T03:00:00+00:00", True),  # 06:00 is the close
    ]
    assert up.decisions[2].stop_at == datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    assert up.decisions[2].warn_at == datetime(2026, 11, 3, 10, 30, tzinfo=UTC)
    assert [s.opens_at.isoformat() for s in up.windows[:2]] == [
        "2026-11-03T03:00:00+00:00",
        "2026-11-04T03:00:00+00:00",
    ]
