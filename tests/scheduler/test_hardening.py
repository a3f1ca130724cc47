"""Scheduler failures found by probing: exclusions at the same instant, the Python API in a
plain script, a backfill waited for without a scheduler, two daemons on one SQLite file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.engine.loop import Engine, SchedulerConfig
from moonshift.errors import Conflict
from moonshift.scheduler import BackfillResult, Scheduler
from tests.helpers import FakeClock, moonshift
from tests.scheduler.sim import RecordingLauncher
from tests.scheduler.test_daemon import start_daemon, until
from tests.scheduler.test_policies import T0, apply

EXCLUSIVE = """\
- id: a
  kind: steps
  steps: {count: 1, every: 10m}
  schedule: {immediate: true}
  exclude_concurrent: [{migration: b, reason: same disks}]
- id: b
  kind: steps
  steps: {count: 1, every: 10m}
  schedule: {immediate: true}
"""


def test_exclusive_migrations_due_together_start_one_at_a_time(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(app, clock, EXCLUSIVE)
    launcher = RecordingLauncher()
    engine = Engine(app.store, clock, launcher, SchedulerConfig(), daemon_id="d", home=tmp_path)
    for second in range(3):  # the first worker has not taken its run yet
        clock.current = T0 + timedelta(seconds=second)
        engine.tick()
    assert [app.runs.get(r).migration_id for r in launcher.launched] == ["a"]
    waiting = app.runs.list("b")[0]
    assert waiting.waiting_for == (
        "waiting: exclude_concurrent with a, which is running (same disks)"
    )


@pytest.mark.slow
def test_the_readme_python_example_runs_as_a_plain_script(tmp_path: Path) -> None:
    """Saved as job.py and run with ``python job.py``: its top level runs once, however
    many workers the scheduler starts (multiprocessing would import it in each)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    [example] = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Scheduler(" in b]
    (tmp_path / "migrations.yaml").write_text(
        "- {id: nightly-export, kind: command, command: [echo, exported]}\n"
        "- {id: on-data, kind: steps, steps: {count: 1, every: 0.1s},"
        " schedule: {event: {type: data_available}}}\n"
    )
    wait = (
        "import time\n"
        "deadline = time.monotonic() + 120\n"
        "while app.runs.list('on-data')[0].state.value != 'completed':\n"
        "    assert time.monotonic() < deadline, app.runs.list('on-data')\n"
        "    time.sleep(0.2)\n"
    )
    script = "open('top-level-ran', 'a').write('once\\n')\n" + example.replace(
        "max_concurrent_runs=3)", "max_concurrent_runs=3, poll_seconds=0.2)"
    ).replace("scheduler.stop()", wait + "scheduler.stop()")
    (tmp_path / "job.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "job.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "top-level-ran").read_text() == "once\n"
    runs = json.loads(moonshift(tmp_path, "runs", "on-data", "--json").stdout)
    assert [(r["trigger"], r["state"]) for r in runs] == [("EVENT", "completed")]


def test_execute_backfill_without_a_scheduler_does_not_hang(tmp_path: Path) -> None:
    scheduler = Scheduler(state=f"sqlite:///{tmp_path / 'state.db'}", home=tmp_path / "home")
    scheduler.add_schedule(
        "id: daily\nkind: steps\nsteps: {count: 1, every: 0.1s}\nschedule: {cron: '0 3 * * *'}\n"
    )
    backfill = scheduler.create_backfill("daily", date(2026, 1, 1), date(2026, 1, 2))
    results: list[BackfillResult] = []
    waiting = threading.Thread(
        target=lambda: results.append(scheduler.execute_backfill(backfill.id)), daemon=True
    )
    waiting.start()
    waiting.join(120)
    assert not waiting.is_alive(), "execute_backfill still waits for a scheduler that never runs"
    assert results == [BackfillResult(backfill.id, 2, 0)]
    assert not scheduler.is_running()


@pytest.mark.slow
def test_a_second_daemon_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("- {id: t, kind: steps, steps: {count: 1}}\n")
    state = {"MOONSHIFT_STATE": f"sqlite:///{tmp_path / 'state.db'}"}
    assert moonshift(tmp_path, "apply", "m.yaml", env=state).returncode == 0
    first = start_daemon(tmp_path, state)
    try:
        second = moonshift(tmp_path, "--home", "other", "daemon", env=state)
        assert second.returncode == 1
        assert (
            f"another moonshift daemon (pid {first}) already runs on the state file "
            f"{tmp_path / 'state.db'}; an SQLite state store takes one daemon"
        ) in second.stderr
        detached = moonshift(tmp_path, "--home", "third", "daemon", "--detach", env=state)
        assert detached.returncode == 1 and f"(pid {first})" in detached.stderr
        in_process = Scheduler(state=state["MOONSHIFT_STATE"], home=tmp_path / "fourth")
        with pytest.raises(Conflict, match=f"another moonshift daemon \\(pid {first}\\)"):
            in_process.start()
        status = json.loads(moonshift(tmp_path, "daemon", "status", "--json", env=state).stdout)
        assert [d["pid"] for d in status["live"]] == [first]
    finally:
        moonshift(tmp_path, "daemon", "stop", env=state)
    # the lock goes with its holder: the next daemon starts
    again = start_daemon(tmp_path, state)
    until(lambda: moonshift(tmp_path, "daemon", "stop", env=state).returncode == 0)
    assert again != first


def test_a_scheduler_started_in_process_is_up_when_start_returns(tmp_path: Path) -> None:
    scheduler = Scheduler(state=f"sqlite:///{tmp_path / 'state.db'}", home=tmp_path / "home")
    scheduler.start()
    try:
        assert scheduler.app.daemons.status().live
        scheduler.add_schedule(
            "id: daily\nkind: steps\nsteps: {count: 1, every: 0.1s}\nschedule: {cron: '0 3 * * *'}\n"
        )
        backfill = scheduler.create_backfill("daily", date(2026, 1, 1), date(2026, 1, 1))
        assert scheduler.execute_backfill(backfill.id) == BackfillResult(backfill.id, 1, 0)
    finally:
        scheduler.stop()
