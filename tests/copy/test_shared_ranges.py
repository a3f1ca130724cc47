"""Two daemons on one PostgreSQL state store share one table's key ranges: the daemon that
runs the copy offers them, the other one's helper claims some; killed with SIGKILL mid-range,
its range's lease expires and the first daemon takes it over from the target's checkpoint.
The target equals the source row for row."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from moonshift.app import Moonshift, Settings
from moonshift.errors import MoonshiftError
from tests.copy.helpers import connector, count, execute
from tests.helpers import moonshift
from tests.scheduler.test_daemon import until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROWS = 400_000
LEASE = 4


def _ranges(pg_state: str) -> list[tuple[int, str | None, int, bool]]:
    engine = create_engine(pg_state.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT range_id, owner, claims, done FROM copy_ranges ORDER BY range_id")
            ).all()
        return [(int(r[0]), r[1], int(r[2]), bool(r[3])) for r in rows]
    finally:
        engine.dispose()


def _configure(app: Moonshift, migration_id: str, **settings: str) -> bool:
    try:
        app.copies.configure(migration_id, settings, actor="test")
        return True
    except MoonshiftError:
        return False  # no active run yet


def _daemon(tmp_path: Path, home: Path, env: dict[str, str]) -> int:
    result = moonshift(
        tmp_path, "--home", str(home), "daemon", "--detach", "--json", "--poll", "0.2", env=env
    )
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["pid"])


def test_two_daemons_share_a_tables_ranges_and_take_over_a_killed_ones(
    tmp_path: Path, pg_state: str, pg_database: str, pg_database_2: str
) -> None:
    conn = connector(pg_database).connect()
    execute(
        conn,
        "CREATE TABLE big (code TEXT PRIMARY KEY, grp INT NOT NULL, note TEXT)",
        f"INSERT INTO big SELECT md5(g::text), g % 97, repeat('x', g % 50) "
        f"FROM generate_series(1, {ROWS}) g",
    )
    conn.close()
    (tmp_path / "m.yaml").write_text(
        f"id: big\nkind: copy\nsource: {{url: '{pg_database}'}}\n"
        f"target: {{url: '{pg_database_2}'}}\ncopy: {{batch_size: 2000, parallel: 2}}\n"
    )
    env = {"MOONSHIFT_STATE": pg_state, "MOONSHIFT_LEASE_SECONDS": str(LEASE)}
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    homes = [tmp_path / "a", tmp_path / "b"]
    # both daemons are up before the start: a second one started later could come, on a
    # loaded machine, after the first had copied every range
    pids = [_daemon(tmp_path, home, env) for home in homes]
    app = Moonshift(Settings.from_env(state=pg_state, home=tmp_path / "app", environ={}))
    try:
        run_id = app.runs.start("big", actor="test").id
        # its own worker copies one range at a time, so some are left for the other
        # daemon's helper (which takes the spec's two at a time)
        until(lambda: _configure(app, "big", parallel="1"), 90)
        # the daemon that runs the copy offers its four ranges
        until(lambda: len(_ranges(pg_state)) == 4, 90)
        owner_a = str(app.runs.get(run_id).lease_owner)
        b = 1 if pids[0] == int(owner_a.rsplit(":", 1)[1]) else 0

        def held_by_b() -> tuple[int, str] | None:
            for range_id, owner, _claims, done in _ranges(pg_state):
                if owner and not owner.startswith(owner_a + " ") and not done:
                    return range_id, owner
            return None

        _, owner_b = until(held_by_b, 90)
        # SIGKILL the other daemon and its helper in the middle of its ranges
        os.kill(pids[b], signal.SIGKILL)
        os.kill(int(owner_b.rsplit(":", 1)[1]), signal.SIGKILL)
        time.sleep(1)  # a statement the helper had sent ends on the server
        # what it held unfinished (on a loaded machine it may have finished a range first,
        # or taken one whose lease the first daemon's worker failed to renew)
        stranded = [
            range_id
            for range_id, owner, _claims, done in _ranges(pg_state)
            if owner and not owner.startswith(owner_a + " ") and not done
        ]
        until(lambda: app.runs.get(run_id).state.value in ("completed", "failed"), 300)
        run = app.runs.get(run_id)
        assert run.state.value == "completed", run.reason
        final = {range_id: (owner, claims) for range_id, owner, claims, _ in _ranges(pg_state)}
        for range_id in stranded:  # taken over by the run's daemon from the checkpoint
            owner, claims = final[range_id]
            assert owner is not None and owner.startswith(owner_a + " "), final
            assert claims >= 2, final
        assert all(done for *_, done in _ranges(pg_state))
        assert count(pg_database_2, "big") == ROWS
        assert all(check.matches for check in app.copies.verify("big"))
        assert "helping run" in (homes[b] / "logs" / "daemon.log").read_text()
    finally:
        for home in homes:
            moonshift(tmp_path, "--home", str(home), "daemon", "stop", env=env)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        app.close()
