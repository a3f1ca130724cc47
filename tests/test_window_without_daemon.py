"""A run started in this process, with no daemon to watch it (``run-now --wait``, the
Python API's ``execute``), keeps its windows itself: when the window closes it stops as a
daemon would have stopped it (paused at its checkpoint here), unless it ignores its windows."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.specfile import load_text
from tests.helpers import FakeClock

# the fake clock starts on a Monday at 12:00 UTC, inside the window
SPEC = (
    "id: slow\nkind: steps\nsteps: {count: 600, every: 0.1s}\n"
    "windows: [{name: midday, start: '11:00', end: '13:00'}]\n"
)


def _run_until_the_window_closes(app: Moonshift, clock: FakeClock, **start: Any) -> Any:
    [spec] = load_text(SPEC)
    app.migrations.apply_spec(spec, actor="user:test")
    run = app.runs.run_now("slow", actor="user:test", **start)
    ended: list[Any] = []
    worker = threading.Thread(target=lambda: ended.append(app.runs.execute(run.id)))
    worker.start()
    _wait(lambda: (app.runs.get(run.id).checkpoint or {}).get("done", 0) >= 2, "two steps")
    clock.current += timedelta(hours=1, minutes=5)  # 13:05: the window has closed
    return run.id, worker, ended


def _wait(check: Any, what: str, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {seconds}s"
        time.sleep(0.05)


def test_a_run_without_a_daemon_pauses_at_its_checkpoint_when_its_window_closes(
    app: Moonshift, clock: FakeClock
) -> None:
    _run_id, worker, ended = _run_until_the_window_closes(app, clock)
    worker.join(120)
    assert not worker.is_alive()
    [run] = ended
    assert (run.state, run.reason) == (State.PAUSED, "window_closed")
    assert 2 <= run.checkpoint["done"] < 600
    actions = [(e.action, e.reason) for e in app.runs.history("slow", limit=100)]
    assert ("pause", "window_closed") in actions, actions


def test_a_run_that_ignores_its_windows_goes_on_past_their_close(
    app: Moonshift, clock: FakeClock
) -> None:
    run_id, worker, _ended = _run_until_the_window_closes(app, clock, ignore_windows=True)
    try:
        done = app.runs.get(run_id).checkpoint["done"]
        _wait(lambda: app.runs.get(run_id).checkpoint["done"] >= done + 10, "ten steps more")
        assert app.runs.get(run_id).state is State.RUNNING
        assert app.runs.get(run_id).control is None
    finally:
        app.runs.cancel(run_id, actor="user:test")
        worker.join(120)
