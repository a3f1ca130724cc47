"""decide_start: when a due run may start, when it is warned, when the window closes on it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from moonshift.timing import (
    Cron,
    OutsideWindow,
    StartAction,
    Window,
    WindowBehavior,
    WindowSet,
    decide_start,
    plan_next,
)
from moonshift.timing.windows import parse_days

NIGHTLY = WindowSet((Window("nightly", parse_days(["daily"]), time(22), time(6)),))
INSIDE = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
OUTSIDE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CLOSE = datetime(2026, 1, 6, 6, 0, tzinfo=UTC)
NEXT_OPEN = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


def behavior(outside: OutsideWindow, warning: str = "30m") -> WindowBehavior:
    minutes = int(warning.rstrip("m"))
    return WindowBehavior(outside, timedelta(minutes=minutes), True)


def test_no_windows_starts_on_time() -> None:
    d = decide_start(OUTSIDE, None, WindowBehavior())
    assert (d.action, d.start_at, d.warn_at, d.stop_at) == (StartAction.START, OUTSIDE, None, None)


def test_inside_a_window_starts_now_and_is_warned_before_the_close() -> None:
    for outside in (OutsideWindow.PAUSE, OutsideWindow.FAIL):
        d = decide_start(INSIDE, NIGHTLY, behavior(outside))
        assert (d.action, d.start_at, d.stop_at, d.at_close) == (
            StartAction.START,
            INSIDE,
            CLOSE,
            outside,
        )
        assert d.warn_at == CLOSE - timedelta(minutes=30)
        assert not d.delayed


def test_a_warning_longer_than_what_is_left_is_due_at_the_start() -> None:
    late = CLOSE - timedelta(minutes=10)
    d = decide_start(late, NIGHTLY, behavior(OutsideWindow.PAUSE))
    assert d.warn_at == late


def test_outside_with_pause_waits_for_the_opening() -> None:
    d = decide_start(OUTSIDE, NIGHTLY, behavior(OutsideWindow.PAUSE))
    assert (d.action, d.start_at, d.stop_at, d.delayed) == (
        StartAction.START,
        NEXT_OPEN,
        CLOSE,
        True,
    )
    assert d.reason == "waits for window nightly"


def test_outside_with_continue_starts_anyway_and_never_pauses() -> None:
    d = decide_start(OUTSIDE, NIGHTLY, behavior(OutsideWindow.CONTINUE))
    assert (d.action, d.start_at, d.stop_at, d.at_close) == (StartAction.START, OUTSIDE, None, None)
    d = decide_start(INSIDE, NIGHTLY, behavior(OutsideWindow.CONTINUE))
    assert (d.start_at, d.stop_at) == (INSIDE, None)


def test_outside_with_fail_fails_and_names_the_next_opening() -> None:
    d = decide_start(OUTSIDE, NIGHTLY, behavior(OutsideWindow.FAIL))
    assert d.action is StartAction.FAIL
    assert d.start_at is None
    assert d.reason == "due outside every window; the next opens at 2026-01-05T22:00:00+00:00"


def test_a_window_that_never_opens_again_fails_even_with_pause() -> None:
    ended = WindowSet(
        (
            Window(
                "old", parse_days(["daily"]), time(22), time(6), until=datetime(2025, 1, 1).date()
            ),
        )
    )
    d = decide_start(OUTSIDE, ended, behavior(OutsideWindow.PAUSE))
    assert (d.action, d.reason) == (StartAction.FAIL, "due outside every window; none opens again")


def test_plan_next_decides_for_the_next_fire() -> None:
    d = plan_next(
        Cron("0 12 * * *"), NIGHTLY, WindowBehavior(), datetime(2026, 1, 5, 11, tzinfo=UTC)
    )
    assert d is not None
    assert (d.due, d.start_at) == (OUTSIDE, NEXT_OPEN)
