"""The crash test: a million-row PostgreSQL copy under a real daemon, its worker killed with
SIGKILL at 20 random points; each time the daemon takes the run over and resumes it from the
checkpoint in the target. In the end the target equals the source row for row."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State
from tests.copy.helpers import connector, count, execute
from tests.helpers import moonshift

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROWS = 1_000_000
KILLS = 20


def test_sigkill_at_20_random_points_loses_and_duplicates_nothing(
    tmp_path: Path, pg_database: str, pg_database_2: str
) -> None:
    conn = connector(pg_database).connect()
    execute(
        conn,
        "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2), note TEXT)",
        f"INSERT INTO big SELECT g, g % 97, (g % 100000) / 7.0, md5(g::text) FROM generate_series(1, {ROWS}) g",
    )
    conn.close()
    (tmp_path / "m.yaml").write_text(
        f"id: big\nkind: copy\nsource: {{url: '{pg_database}'}}\ntarget: {{url: '{pg_database_2}'}}\n"
        "copy: {batch_size: 1000, parallel: 2}\n"
    )
    env = {"MOONSHIFT_LEASE_SECONDS": "5"}
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    daemon = moonshift(tmp_path, "daemon", "--detach", "--json", "--poll", "0.2", env=env)
    assert daemon.returncode == 0, daemon.stderr
    app = Moonshift(Settings.from_env(home=tmp_path / ".moonshift", environ={}))
    rng = random.Random(20261123)
    try:
        run_id = json.loads(moonshift(tmp_path, "start", "big", "--json", env=env).stdout)["run"]
        kills = 0
        killed: set[int] = set()
        deadline = time.monotonic() + 240
        while kills < KILLS and time.monotonic() < deadline:
            run = app.runs.get(run_id)
            if run.state is State.COMPLETED:
                break
            if run.state is State.RUNNING and run.worker_pid and run.worker_pid not in killed:
                time.sleep(rng.uniform(0.02, 0.2))
                try:
                    os.kill(run.worker_pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                killed.add(run.worker_pid)
                kills += 1
            time.sleep(0.02)
        while (
            app.runs.get(run_id).state not in (State.COMPLETED, State.FAILED)
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        run = app.runs.get(run_id)
        assert run.state is State.COMPLETED, run.reason
        assert kills == KILLS, f"the copy finished after {kills} kills"
        takeovers = [
            e
            for e in app.runs.history("big", limit=1000)
            if (e.reason or "").startswith("taken over")
        ]
        assert len(takeovers) >= KILLS
        assert count(pg_database_2, "big") == ROWS
        assert all(check.matches for check in app.copies.verify("big"))
    finally:
        moonshift(tmp_path, "daemon", "stop", env=env)
        app.close()
