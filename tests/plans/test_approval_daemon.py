"""Approval as users meet it: the CLI and a real daemon with one worker slot. A run waiting
for approval holds no worker, so another migration runs meanwhile."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moonshift.app import Moonshift, Settings
from tests.helpers import moonshift
from tests.scheduler.test_daemon import until

SPECS = """
- id: guarded
  kind: steps
  steps: {count: 1, every: 0.05s}
  approval: {required: true, approvers: 2, not_the_author: true}
- id: other
  kind: steps
  steps: {count: 1, every: 0.05s}
"""
AS = {name: {"LOGNAME": name, "USER": name} for name in ("alice", "bob", "carol")}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "m.yaml").write_text(SPECS)
    assert moonshift(tmp_path, "apply", "m.yaml", env=AS["alice"]).returncode == 0
    yield tmp_path
    moonshift(tmp_path, "daemon", "stop")


def state_is(workdir: Path, migration: str, state: str) -> dict[str, Any] | None:
    """The latest run when it is in ``state``; read in this process (a CLI call per poll
    costs seconds on a loaded machine)."""
    settings = Settings.from_env(home=workdir / ".moonshift", environ={})
    app = Moonshift(settings)
    try:
        found = app.runs.list(migration, limit=1)
    finally:
        app.close()
    if found and found[0].state.value == state:
        return found[0].model_dump(mode="json")
    return None


def test_a_waiting_run_holds_no_worker_and_two_approvals_start_it(workdir: Path) -> None:
    started = moonshift(workdir, "daemon", "--detach", "--poll", "0.1", "--max-concurrent", "1")
    assert started.returncode == 0, started.stderr
    assert moonshift(workdir, "start", "guarded", env=AS["alice"]).returncode == 0
    run = until(lambda: state_is(workdir, "guarded", "awaiting_approval"), 60)
    assert run["lease_owner"] is None and run["worker_pid"] is None
    # the one worker slot is free: another migration runs while this one waits
    assert moonshift(workdir, "start", "other").returncode == 0
    until(lambda: state_is(workdir, "other", "completed"), 60)
    plan = json.loads(moonshift(workdir, "plan", "guarded", "--json").stdout)
    assert plan["run_id"] == run["id"] and len(plan["digest"]) == 64
    own = moonshift(workdir, "approve", "guarded", env=AS["alice"])
    assert own.returncode == 1 and "not_the_author" in own.stderr
    one = moonshift(workdir, "approve", "guarded", "--note", "looks right", env=AS["bob"])
    assert one.returncode == 0 and "1 of 2" in one.stdout, one.stderr
    time.sleep(1.0)  # a daemon polling every 0.1 s would have started it by now
    assert state_is(workdir, "guarded", "awaiting_approval")
    two = moonshift(workdir, "approve", "guarded", "--run", str(run["id"]), env=AS["carol"])
    assert two.returncode == 0 and "2 of 2" in two.stdout, two.stderr
    until(lambda: state_is(workdir, "guarded", "completed"), 60)
    noted = moonshift(workdir, "note", "guarded", "done before the close", env=AS["bob"])
    assert noted.returncode == 0
    history = json.loads(moonshift(workdir, "history", "guarded", "--json").stdout)
    steps = [(e["action"], e["actor"]) for e in reversed(history)]
    for step in [
        ("planned", "worker:"),
        ("approval", "user:bob"),
        ("approval", "user:carol"),
        ("approve", "user:carol"),
        ("note", "user:bob"),
    ]:
        assert any(a == step[0] and step[1] in actor for a, actor in steps), (step, steps)
    assert [e["action"] for e in reversed(history)].count("execute") == 1
