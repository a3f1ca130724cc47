"""What a running run's windows ask of it, for the daemon that watches it and for the worker
that runs it alike (a run started without a daemon stops at its window's close too)."""

from __future__ import annotations

from datetime import datetime

from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.spec import MigrationSpec
from moonshift.store.records import RunRecord
from moonshift.timing import OutsideWindow

WINDOW_CLOSED = "window_closed"


def window_stop(run: RunRecord, spec: MigrationSpec, now: datetime) -> ControlRequest | None:
    """The request that stops a running run outside its windows (a pause, or a failure,
    as ``outside_window`` says); None while it may go on."""
    if not window_closed(run, spec, now):
        return None
    paused = spec.behavior().outside_window is OutsideWindow.PAUSE
    return ControlRequest(action=Action.PAUSE if paused else Action.FAIL, reason=WINDOW_CLOSED)


def window_closed(run: RunRecord, spec: MigrationSpec, now: datetime) -> bool:
    """True when a running run is outside its migration's windows and must stop; a run
    started with its windows ignored never must."""
    windows = spec.window_set()
    if windows is None or watches_no_window(run, spec):
        return False
    return not windows.is_open(now)


def watches_no_window(run: RunRecord, spec: MigrationSpec) -> bool:
    """No window pauses, fails or warns this run: it ignores them, or they are advisory."""
    return run.ignore_windows or spec.behavior().outside_window is OutsideWindow.CONTINUE
