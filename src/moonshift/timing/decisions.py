"""When a due run may start, when it is warned, and when it must pause: one pure function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from moonshift.timing.triggers import Trigger
from moonshift.timing.windows import WindowSet, WindowSpan
from moonshift.timing.zones import utc


class OutsideWindow(StrEnum):
    PAUSE = "pause"  # wait for the next opening; pause at the close
    CONTINUE = "continue"  # windows are advisory
    FAIL = "fail"  # fail a run due outside a window, or still running at the close


class StartAction(StrEnum):
    START = "start"  # start at ``start_at`` (which may be later than due: the next opening)
    FAIL = "fail"


@dataclass(frozen=True)
class WindowBehavior:
    outside_window: OutsideWindow = OutsideWindow.PAUSE
    ending_warning: timedelta = timedelta(minutes=30)
    complete_current_batch: bool = True


@dataclass(frozen=True)
class StartDecision:
    due: datetime
    action: StartAction
    start_at: datetime | None
    warn_at: datetime | None  # when the window_ending warning is due
    stop_at: datetime | None  # when the window closes on the run
    at_close: OutsideWindow | None  # pause or fail at ``stop_at``
    window: WindowSpan | None
    reason: str

    @property
    def delayed(self) -> bool:
        return self.start_at is not None and self.start_at > self.due


def decide_start(
    due: datetime, windows: WindowSet | None, behavior: WindowBehavior
) -> StartDecision:
    """Decide for a run due at ``due``. ``windows`` None means it may run at any time."""
    due = utc(due)
    if windows is None:
        return StartDecision(due, StartAction.START, due, None, None, None, None, "no windows")
    span = windows.current(due)
    if span is not None:
        return _inside(due, due, span, behavior, f"inside window {span.name}")
    if behavior.outside_window is OutsideWindow.CONTINUE:
        return StartDecision(
            due,
            StartAction.START,
            due,
            None,
            None,
            None,
            None,
            "outside every window; outside_window is continue",
        )
    opening = windows.next_open(due)
    if behavior.outside_window is OutsideWindow.FAIL or opening is None:
        after = f"; the next opens at {opening.isoformat()}" if opening else "; none opens again"
        return StartDecision(
            due,
            StartAction.FAIL,
            None,
            None,
            None,
            None,
            None,
            f"due outside every window{after}",
        )
    span = windows.current(opening)
    assert span is not None
    return _inside(due, opening, span, behavior, f"waits for window {span.name}")


@dataclass(frozen=True)
class ClosedNow:
    """Every window is closed on a run asked to start at once; the next opens then."""

    opens_at: datetime | None  # None: none opens again
    window: str | None


def closed_now(
    now: datetime, windows: WindowSet | None, behavior: WindowBehavior
) -> ClosedNow | None:
    """The rule for a run asked to start at once (a manual run): it cannot wait for a window
    as a due run does, so outside every window it may not start, unless the windows are
    advisory (``continue``). None when it may start now."""
    decision = decide_start(now, windows, behavior)
    if decision.action is StartAction.START and not decision.delayed:
        return None
    assert windows is not None
    opening = windows.next_open(now)
    span = windows.current(opening) if opening else None
    return ClosedNow(opening, span.name if span else None)


def plan_next(
    trigger: Trigger, windows: WindowSet | None, behavior: WindowBehavior, after: datetime
) -> StartDecision | None:
    """The decision for the trigger's next fire after ``after``, or None if it never fires."""
    due = trigger.next_fire(after)
    return None if due is None else decide_start(due, windows, behavior)


def _inside(
    due: datetime, start: datetime, span: WindowSpan, behavior: WindowBehavior, reason: str
) -> StartDecision:
    closes = span.closes_at
    if behavior.outside_window is OutsideWindow.CONTINUE or closes is None:
        return StartDecision(due, StartAction.START, start, None, None, None, span, reason)
    warn = max(start, closes - behavior.ending_warning)
    return StartDecision(
        due, StartAction.START, start, warn, closes, behavior.outside_window, span, reason
    )
