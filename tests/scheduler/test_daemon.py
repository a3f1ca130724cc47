"""The daemon as users run it: real processes, real time (kept short), real kill -9."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from moonshift.engine.pidfile import process_alive
from tests.helpers import moonshift

SPECS = """
- id: tick
  kind: steps
  steps: {count: 1, every: 0.05s}
  schedule: {interval: 1s}
- id: longjob
  kind: steps
  steps: {count: 40, every: 0.1s}
"""
FAST = {"MOONSHIFT_LEASE_SECONDS": "2"}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "m.yaml").write_text(SPECS)
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    yield tmp_path
    moonshift(tmp_path, "daemon", "stop")


def runs(workdir: Path, migration: str) -> list[dict[str, Any]]:
    result = moonshift(workdir, "runs", migration, "--json", "--limit", "1000")
    return list(json.loads(result.stdout))


def until(check: Callable[[], Any], seconds: float = 30) -> Any:
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


def history(workdir: Path, migration: str) -> list[dict[str, Any]]:
    return list(
        json.loads(moonshift(workdir, "history", migration, "--json", "--limit", "1000").stdout)
    )


def test_interval_fires_start_once_each_and_the_daemon_stops(workdir: Path) -> None:
    pid = start_daemon(workdir)
    assert "running with pid" in moonshift(workdir, "daemon", "status").stdout
    until(lambda: len([r for r in runs(workdir, "tick") if r["state"] == "completed"]) >= 3, 20)
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
    until(
        lambda: (
            (r := runs(workdir, "longjob")[0])["state"] == "running"
            and (r["checkpoint"] or {}).get("done", 0) >= 5
        )
    )
    assert moonshift(workdir, "daemon", "stop").returncode == 0
    paused = runs(workdir, "longjob")[0]
    assert (paused["id"], paused["state"], paused["reason"]) == (run_id, "paused", "shutdown")
    left_at = paused["checkpoint"]["done"]
    assert 5 <= left_at < 40
    start_daemon(workdir)
    done = until(lambda: (r := runs(workdir, "longjob")[0])["state"] == "completed" and r)
    assert done["checkpoint"]["done"] == 40
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
    running = until(
        lambda: (
            (r := runs(workdir, "longjob")[0])["state"] == "running"
            and (r["checkpoint"] or {}).get("done", 0) >= 5
            and r
        )
    )
    os.kill(first, signal.SIGKILL)
    os.kill(running["worker_pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    (workdir / ".moonshift" / "daemon.pid").unlink()
    start_daemon(workdir, FAST)
    resumed = until(
        lambda: (
            (r := runs(workdir, "longjob")[0])["state"] in ("running", "completed")
            and r["lease_owner"] != running["lease_owner"]
            and r
        )
    )
    assert time.monotonic() - killed_at < 2 + 5  # the lease, plus a little
    assert resumed["id"] == running["id"]
    done = until(lambda: (r := runs(workdir, "longjob")[0])["state"] == "completed" and r)
    assert done["checkpoint"]["done"] == 40
    reasons = [e["reason"] or "" for e in history(workdir, "longjob")]
    assert any(r.startswith("taken over: its lease expired") for r in reasons)
    assert len(runs(workdir, "longjob")) == 1  # resumed, not started again


@pytest.mark.postgres
def test_on_postgresql_a_start_wakes_the_daemon_at_once(workdir: Path, pg_state: str) -> None:
    env = {"MOONSHIFT_STATE": pg_state}
    assert moonshift(workdir, "apply", "m.yaml", env=env).returncode == 0
    result = moonshift(
        workdir, "daemon", "--detach", "--poll", "10", "--check-interval", "60", env=env
    )
    assert result.returncode == 0, result.stderr
    try:
        time.sleep(1)  # the daemon is asleep now, for up to ten seconds
        asked = time.monotonic()
        moonshift(workdir, "start", "longjob", env=env)
        until(
            lambda: (
                json.loads(moonshift(workdir, "runs", "longjob", "--json", env=env).stdout)[0][
                    "state"
                ]
                != "created"
            ),
            10,
        )
        assert time.monotonic() - asked < 3  # woken by NOTIFY, not by its ten-second poll
    finally:
        moonshift(workdir, "daemon", "stop", env=env)
