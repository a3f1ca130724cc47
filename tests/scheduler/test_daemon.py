"""The daemon as users run it: real processes, real time (kept short), real kill -9.

Each test waits for events with deadlines of a minute or more and asserts no wall-clock margin:
a loaded machine only makes it slower."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from moonshift.app import Moonshift, Settings
from moonshift.engine.pidfile import process_alive
from tests.helpers import moonshift

SPECS = """
- id: tick
  kind: steps
  steps: {count: 1, every: 0.05s}
  schedule: {interval: 1s}
- id: longjob
  kind: steps
  steps: {count: 150, every: 0.1s}
"""
LONG_STEPS = 150  # 15 s: long enough that a stop on a loaded machine still finds it running
PATIENCE = 90  # seconds for any one event
FAST = {"MOONSHIFT_LEASE_SECONDS": "2"}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "m.yaml").write_text(SPECS)
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    yield tmp_path
    moonshift(tmp_path, "daemon", "stop")


def runs(workdir: Path, migration: str, state: str | None = None) -> list[dict[str, Any]]:
    """What `moonshift runs --json` prints, read in this process: a poll costs no start-up
    of a CLI process, which takes long on a loaded machine."""
    with reader(workdir, state) as app:
        return [r.model_dump(mode="json") for r in app.runs.list(migration, limit=1000)]


@contextlib.contextmanager
def reader(workdir: Path, state: str | None = None) -> Iterator[Moonshift]:
    app = Moonshift(Settings.from_env(state=state, home=workdir / ".moonshift", environ={}))
    try:
        yield app
    finally:
        app.close()


def until(check: Callable[[], Any], seconds: float = PATIENCE) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not true within {seconds}s: {check}")


def start_daemon(workdir: Path, env: dict[str, str] | None = None) -> int:
    result = moonshift(workdir, "daemon", "--detach", "--poll", "0.1", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["pid"])


def five_steps_in(workdir: Path) -> dict[str, Any]:
    """The longjob run once it is running and has done five steps."""
    return until(  # type: ignore[no-any-return]
        lambda: (
            (r := runs(workdir, "longjob")[0])["state"] == "running"
            and (r["checkpoint"] or {}).get("done", 0) >= 5
            and r
        )
    )


def history(workdir: Path, migration: str) -> list[dict[str, Any]]:
    with reader(workdir) as app:
        return [e.model_dump(mode="json") for e in app.runs.history(migration, limit=1000)]


def test_interval_fires_start_once_each_and_the_daemon_stops(workdir: Path) -> None:
    pid = start_daemon(workdir)
    assert "running with pid" in moonshift(workdir, "daemon", "status").stdout
    until(lambda: len([r for r in runs(workdir, "tick") if r["state"] == "completed"]) >= 3)
    stopped = moonshift(workdir, "daemon", "stop")
    assert stopped.returncode == 0
    assert f"daemon pid {pid} stopped" in stopped.stdout
    assert not process_alive(pid)
    found = runs(workdir, "tick")
    identities = [(r["nominal_time"], r["attempt"]) for r in found]
    assert len(identities) == len(set(identities))
    assert {r["trigger"] for r in found} == {"SCHEDULED"}
    assert "no daemon is running here" in moonshift(workdir, "daemon", "status").stdout


def test_start_without_a_daemon_says_so(workdir: Path) -> None:
    result = moonshift(workdir, "start", "longjob")
    assert result.returncode == 1
    assert "no moonshift daemon is running" in result.stderr


def test_stop_pauses_at_a_checkpoint_and_the_next_daemon_resumes(workdir: Path) -> None:
    start_daemon(workdir)
    run_id = json.loads(moonshift(workdir, "start", "longjob", "--json").stdout)["run"]
    five_steps_in(workdir)
    assert moonshift(workdir, "daemon", "stop").returncode == 0
    paused = runs(workdir, "longjob")[0]
    assert (paused["id"], paused["state"], paused["reason"]) == (run_id, "paused", "shutdown")
    left_at = paused["checkpoint"]["done"]
    assert 5 <= left_at < LONG_STEPS
    start_daemon(workdir)
    done = until(lambda: (r := runs(workdir, "longjob")[0])["state"] == "completed" and r)
    assert done["checkpoint"]["done"] == LONG_STEPS
    steps = [
        (e["from_state"], e["to_state"], e["reason"])
        for e in reversed(history(workdir, "longjob"))
        if e["to_state"]
    ]
    assert ("running", "paused", "shutdown") in steps
    assert ("paused", "running", "resumed after: shutdown") in steps


def test_a_killed_daemons_run_is_taken_over_within_the_lease(workdir: Path) -> None:
    first = start_daemon(workdir, FAST)
    moonshift(workdir, "start", "longjob")
    running = five_steps_in(workdir)
    os.kill(first, signal.SIGKILL)
    os.kill(running["worker_pid"], signal.SIGKILL)
    (workdir / ".moonshift" / "daemon.pid").unlink()
    start_daemon(workdir, FAST)
    resumed = until(
        lambda: (
            (r := runs(workdir, "longjob")[0])["state"] in ("running", "completed")
            and r["lease_owner"] != running["lease_owner"]
            and r
        )
    )
    assert resumed["id"] == running["id"]
    done = until(lambda: (r := runs(workdir, "longjob")[0])["state"] == "completed" and r)
    assert done["checkpoint"]["done"] == LONG_STEPS
    reasons = [e["reason"] or "" for e in history(workdir, "longjob")]
    assert any(r.startswith("taken over: its lease expired") for r in reasons)
    assert len(runs(workdir, "longjob")) == 1  # resumed, not started again


def test_a_stalled_worker_is_killed_before_its_run_goes_to_another(workdir: Path) -> None:
    start_daemon(workdir, FAST)
    moonshift(workdir, "start", "longjob")
    running = five_steps_in(workdir)
    stalled = running["worker_pid"]
    os.kill(stalled, signal.SIGSTOP)  # alive, but it renews nothing: its lease runs out
    try:
        until(
            lambda: (
                (r := runs(workdir, "longjob")[0])["worker_pid"] not in (None, stalled)
                and r["state"] in ("running", "completed")
            )
        )
        # killed before the next worker began: woken, it would count the same steps again
        assert not process_alive(stalled)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stalled, signal.SIGCONT)
    done = until(lambda: (r := runs(workdir, "longjob")[0])["state"] == "completed" and r)
    assert done["checkpoint"]["done"] == LONG_STEPS
    reasons = [e["reason"] or "" for e in history(workdir, "longjob")]
    assert any(r.startswith("taken over: its lease expired") for r in reasons)


@pytest.mark.postgres
def test_on_postgresql_a_start_wakes_the_daemon_at_once(workdir: Path, pg_state: str) -> None:
    env = {"MOONSHIFT_STATE": pg_state}
    (workdir / "long.yaml").write_text(SPECS[SPECS.index("- id: longjob") :])  # no schedule
    assert moonshift(workdir, "apply", "long.yaml", env=env).returncode == 0
    asleep = ["daemon", "--detach", "--poll", "60", "--check-interval", "3600"]
    assert moonshift(workdir, *asleep, env=env).returncode == 0
    try:
        with reader(workdir, pg_state) as app:
            # Its first heartbeat follows its first tick; then it sleeps for a minute (its
            # poll), since nothing is due, unless a NOTIFY wakes it.
            [slept_at] = until(
                lambda: [
                    h for d in app.daemons.status().live if (h := d.heartbeat_at) > d.started_at
                ]
            )
            app.runs.start("longjob", actor="user:test")
            until(lambda: runs(workdir, "longjob", pg_state)[0]["state"] != "created")
            woke_by = datetime.now(UTC)
            assert woke_by - slept_at < timedelta(seconds=60)  # its poll would be later
    finally:
        moonshift(workdir, "daemon", "stop", env=env)


@pytest.mark.postgres
def test_the_daemon_waits_out_a_state_store_that_goes_away(workdir: Path, pg_state: str) -> None:
    """The network to a PostgreSQL state store is cut and refused for a while, as in a
    restart: the daemon keeps running, says so in its log, and when the store is back
    starts the run asked for meanwhile."""
    from tests.copy.proxy import Proxy

    proxy = Proxy(5432)
    proxy.start()
    through = pg_state.replace(":5432/", f":{proxy.port}/")
    assert through != pg_state
    env = {"MOONSHIFT_STATE": through}
    (workdir / "long.yaml").write_text(SPECS[SPECS.index("- id: longjob") :])  # no schedule
    assert moonshift(workdir, "apply", "long.yaml", env=env).returncode == 0
    pid = start_daemon(workdir, env)
    log = workdir / ".moonshift" / "logs" / "daemon.log"
    try:
        with reader(workdir, pg_state) as app:
            until(lambda: app.daemons.status().live)
            proxy.stop()  # open connections cut, new ones refused
            until(lambda: "cannot be reached" in log.read_text())
            app.runs.start("longjob", actor="user:test")  # while it is away
            time.sleep(3)  # a few of its tries fail
            assert process_alive(pid)
            proxy.start()
            until(lambda: "is back after" in log.read_text())
            until(lambda: runs(workdir, "longjob", pg_state)[0]["state"] == "completed", 180)
            assert process_alive(pid)
            assert "Traceback" not in log.read_text()
    finally:
        moonshift(workdir, "daemon", "stop", env=env)
        proxy.stop()
