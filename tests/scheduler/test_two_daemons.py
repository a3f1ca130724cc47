"""Two daemons on one PostgreSQL store: every fire starts once; a killed daemon's run is
taken over once its lease expires. Real processes, about a minute of real time; each wait is
for an event with a generous deadline, and no wall-clock margin is asserted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import moonshift
from tests.scheduler.test_daemon import runs as runs_of
from tests.scheduler.test_daemon import until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
# Fires enough that both daemons claim side by side, few enough that a loaded machine's
# worker processes keep up with them (200 every 20 s outran two busy cores)
SCHEDULES = 50
INTERVAL = 20
LEASE = 3


def test_two_daemons_start_every_fire_once_and_take_over(tmp_path: Path, pg_state: str) -> None:
    specs = (
        "".join(
            f"- {{id: m{i:03d}, kind: steps, steps: {{count: 1, every: 0.05s}}, schedule: {{interval: {INTERVAL}s}}}}\n"
            for i in range(SCHEDULES)
        )
        + "- {id: long, kind: steps, steps: {count: 60, every: 0.1s}}\n"
    )
    (tmp_path / "m.yaml").write_text(specs)
    env = {"MOONSHIFT_STATE": pg_state, "MOONSHIFT_LEASE_SECONDS": str(LEASE)}
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    applied = datetime.now(UTC)
    homes = [tmp_path / "a", tmp_path / "b"]
    pids = []
    for home in homes:
        result = moonshift(
            tmp_path,
            "--home",
            str(home),
            "daemon",
            "--detach",
            "--json",
            "--max-concurrent",
            "8",
            "--poll",
            "0.2",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        pids.append(json.loads(result.stdout)["pid"])
    try:
        moonshift(tmp_path, "start", "long", env=env)

        def long_run() -> dict[str, object]:
            return runs_of(tmp_path, "long", pg_state)[0]

        running = until(
            lambda: (
                (r := long_run())["state"] == "running"
                and (r["checkpoint"] or {}).get("done", 0) >= 5
                and r
            ),
        )
        owner_pid = int(str(running["lease_owner"]).rsplit(":", 1)[1])
        os.kill(owner_pid, signal.SIGKILL)
        os.kill(int(str(running["worker_pid"])), signal.SIGKILL)
        taken = until(
            lambda: (r := long_run())["lease_owner"] not in (None, running["lease_owner"]) and r
        )
        assert taken["id"] == running["id"]
        until(lambda: long_run()["state"] == "completed")
        time.sleep(max(0, 55 - (datetime.now(UTC) - applied).total_seconds()))
        ended = datetime.now(UTC)
        due = _due(applied, ended)
        # the fires due so far may still be queued behind one another: wait for them to start
        until(lambda: not _unstarted(pg_state, due), 180)
    finally:
        for home in homes:
            moonshift(tmp_path, "--home", str(home), "daemon", "stop", env=env)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    engine = create_engine(pg_state.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        runs = conn.execute(
            text(
                "SELECT migration_id, nominal_time, attempt, state, started_at, lease_owner FROM runs "
                "WHERE migration_id LIKE 'm%'"
            )
        ).all()
        executes = Counter(
            r[0]
            for r in conn.execute(text("SELECT run_id FROM audit_log WHERE action = 'execute'"))
        )
    engine.dispose()
    # every fire due between the apply and 10 s before the end has exactly one run, started once
    found = Counter((r[0], r[1]) for r in runs)
    assert set(due) <= set(found), "a fire never became a run"
    assert max(found.values()) == 1, "a fire became two runs"
    started = [r for r in runs if (r[0], r[1]) in due]
    assert all(r[4] is not None for r in started), "a due run never started"
    assert len(due) >= SCHEDULES * 2
    assert max(executes.values()) == 1, "a run was started twice"
    daemons = {str(owner).rsplit(":", 1)[1] for *_, owner in runs if owner}
    assert not daemons, "runs still hold a lease after the end"
    for home in homes:  # both daemons took a share of the work
        assert "started run" in (home / "logs" / "daemon.log").read_text()


def _due(applied: datetime, ended: datetime) -> set[tuple[str, datetime]]:
    """The fires due between the apply and 10 s before the end."""
    due: set[tuple[str, datetime]] = set()
    for i in range(SCHEDULES):
        t = datetime.fromtimestamp((applied.timestamp() // INTERVAL + 1) * INTERVAL, UTC)
        while t < ended - timedelta(seconds=10):
            due.add((f"m{i:03d}", t))
            t += timedelta(seconds=INTERVAL)
    return due


def _unstarted(pg_state: str, due: set[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
    """The due fires that have no run yet, or whose run has not started."""
    engine = create_engine(pg_state.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            query = "SELECT migration_id, nominal_time FROM runs WHERE started_at IS NOT NULL"
            started = {(r[0], r[1]) for r in conn.execute(text(query))}
    finally:
        engine.dispose()
    return due - started
