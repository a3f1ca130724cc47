"""The crash tests: a PostgreSQL copy under a real daemon, its worker killed with SIGKILL at
random points; each time the daemon takes the run over and resumes it from the checkpoints
in the target. In the end the target equals the source row for row, and has every key,
index and foreign key the source has."""

from __future__ import annotations

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


def _kill_until_done(
    tmp_path: Path, spec: str, migration: str, kills: int, seed: int, env: dict[str, str]
) -> tuple[Moonshift, int, int]:
    """Run the copy under a daemon, SIGKILL its worker ``kills`` times at random points;
    returns the app, the run and how many kills there were."""
    (tmp_path / "m.yaml").write_text(spec)
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    daemon = moonshift(tmp_path, "daemon", "--detach", "--json", "--poll", "0.2", env=env)
    assert daemon.returncode == 0, daemon.stderr
    app = Moonshift(Settings.from_env(home=tmp_path / ".moonshift", environ={}))
    rng = random.Random(seed)
    # Started in this process, not by a CLI process: on a loaded machine a CLI takes long
    # enough to start that the daemon could finish the copy before the first kill.
    run_id = app.runs.start(migration, actor="crash-test").id
    done, killed = 0, set()
    deadline = time.monotonic() + 600  # generous: each kill costs a takeover and a new worker
    while done < kills and time.monotonic() < deadline:
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
            done += 1
        time.sleep(0.02)
    while (
        app.runs.get(run_id).state not in (State.COMPLETED, State.FAILED)
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    return app, run_id, done


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
    spec = (
        f"id: big\nkind: copy\nsource: {{url: '{pg_database}'}}\ntarget: {{url: '{pg_database_2}'}}\n"
        "copy: {batch_size: 1000, parallel: 2}\n"
    )
    env = {"MOONSHIFT_LEASE_SECONDS": "5"}
    app, run_id, kills = _kill_until_done(tmp_path, spec, "big", KILLS, 20261123, env)
    try:
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


def test_sigkill_during_the_copy_and_its_phases_leaves_every_key_index_and_foreign_key(
    tmp_path: Path, pg_database: str, pg_database_2: str
) -> None:
    rows = 30_000
    conn = connector(pg_database).connect()
    execute(
        conn,
        "CREATE TABLE owner (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE)",
        "CREATE TABLE pet (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL REFERENCES owner, "
        "name TEXT NOT NULL)",
        "CREATE INDEX pet_by_name ON pet (name)",
        f"INSERT INTO owner SELECT g, 'o' || g || '@example.org' FROM generate_series(1, {rows}) g",
        f"INSERT INTO pet SELECT g, 1 + g % {rows}, md5(g::text) FROM generate_series(1, {rows}) g",
    )
    conn.close()
    spec = (
        f"id: pets\nkind: copy\nsource: {{url: '{pg_database}'}}\n"
        f"target: {{url: '{pg_database_2}'}}\ncopy: {{batch_size: 2000, parallel: 2}}\n"
    )
    env = {"MOONSHIFT_LEASE_SECONDS": "5"}
    app, run_id, kills = _kill_until_done(tmp_path, spec, "pets", 4, 9, env)
    try:
        run = app.runs.get(run_id)
        assert run.state is State.COMPLETED, run.reason
        assert kills >= 1
        pg = connector(pg_database_2).connect()
        found = pg.execute(
            "SELECT conrelid::regclass::text, contype::text FROM pg_constraint "
            "WHERE conrelid IN ('owner'::regclass, 'pet'::regclass) ORDER BY 1, 2"
        ).fetchall()
        indexes = pg.execute("SELECT indexrelid::regclass::text FROM pg_index").fetchall()
        pg.close()
        assert found == [("owner", "p"), ("owner", "u"), ("pet", "f"), ("pet", "p")]
        assert ("pet_by_name",) in indexes
        assert all(check.matches for check in app.copies.verify("pets"))
    finally:
        moonshift(tmp_path, "daemon", "stop", env=env)
        app.close()


# 1,500 batches: seconds of copying even on a fast machine, for the kills to find; or the
# whole table in one batch, one statement with no key range
@pytest.mark.parametrize("batch_size", [200, 1_000_000], ids=["batches", "whole-table"])
def test_sigkill_during_an_attached_sqlite_copy_loses_and_duplicates_nothing(
    tmp_path: Path, batch_size: int
) -> None:
    """SQLite to SQLite moves each batch by one INSERT ... SELECT from the attached source,
    committed with its checkpoint: killed at random points, it still copies every row once."""
    import sqlite3

    rows = 300_000
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, grp INT NOT NULL, note TEXT)")
    conn.execute(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
        "INSERT INTO big SELECT n, n % 97, hex(randomblob(8)) FROM g",
        (rows,),
    )
    conn.commit()
    conn.close()
    spec = (
        f"id: sq\nkind: copy\nsource: {{url: 'sqlite:///{source}'}}\n"
        f"target: {{url: 'sqlite:///{target}'}}\ncopy: {{batch_size: {batch_size}}}\n"
    )
    env = {"MOONSHIFT_LEASE_SECONDS": "5"}
    app, run_id, kills = _kill_until_done(tmp_path, spec, "sq", 5, 7, env)
    try:
        run = app.runs.get(run_id)
        assert run.state is State.COMPLETED, run.reason
        assert kills >= 1
        assert count(f"sqlite:///{target}", "big") == rows
        assert all(check.matches for check in app.copies.verify("sq"))
    finally:
        moonshift(tmp_path, "daemon", "stop", env=env)
        app.close()


FILL = {
    "mariadb": (
        "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount DECIMAL(12,2), "
        "note TEXT)",
        "INSERT INTO big SELECT seq, seq % 97, (seq % 100000) / 7, md5(seq) FROM seq_1_to_{n}",
    ),
    "postgres": (
        "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2), "
        "note TEXT)",
        "INSERT INTO big SELECT g, g % 97, (g % 100000) / 7.0, md5(g::text) "
        "FROM generate_series(1, {n}) g",
    ),
}


@pytest.mark.mariadb
@pytest.mark.parametrize("src", ["mariadb", "postgres"])
def test_sigkill_on_the_csv_path_between_engines_loses_and_duplicates_nothing(
    tmp_path: Path, mariadb_database: str, pg_database: str, src: str
) -> None:
    rows = 60_000
    source, target = (
        (mariadb_database, pg_database) if src == "mariadb" else (pg_database, mariadb_database)
    )
    conn = connector(source).connect()
    execute(conn, *(sql.format(n=rows) for sql in FILL[src]))
    conn.close()
    spec = (
        f"id: big\nkind: copy\nsource: {{url: '{source}'}}\n"
        f"target: {{url: '{target}'}}\ncopy: {{batch_size: 1000, parallel: 2}}\n"
    )
    env = {"MOONSHIFT_LEASE_SECONDS": "5"}
    app, run_id, kills = _kill_until_done(tmp_path, spec, "big", 3, 20261127, env)
    try:
        run = app.runs.get(run_id)
        assert run.state is State.COMPLETED, run.reason
        assert kills >= 1
        assert count(target, "big") == rows
        assert all(check.matches for check in app.copies.verify("big"))
    finally:
        moonshift(tmp_path, "daemon", "stop", env=env)
        app.close()
