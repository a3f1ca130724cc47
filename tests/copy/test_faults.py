"""The fault suite: a PostgreSQL copy under real daemons, with kill -9 of its worker, its
daemon or both in every phase (analyzing, planning, running, the constraints after the
rows), outages of source and target through a TCP proxy at random points, and starts at the
same time from the CLI and the Python API. After each, the target equals the source and the
run's history says what happened. The random points come from the seed in pytest's header
(MOONSHIFT_FAULT_SEED=N replays them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from moonshift.app import Moonshift
from moonshift.app.views import Run
from moonshift.domain.lifecycle import State
from tests.copy.faults import SEED, Daemons, copy_under_daemon, history, kill, rng_for, wait_run
from tests.copy.helpers import connector, count, execute
from tests.copy.proxy import Proxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROWS = 60_000
VICTIMS = ("worker", "daemon", "both")


def _fill(url: str) -> None:
    conn = connector(url).connect()
    execute(
        conn,
        "CREATE TABLE t (id BIGINT PRIMARY KEY, grp INT NOT NULL, v TEXT NOT NULL UNIQUE)",
        "CREATE INDEX t_by_grp ON t (grp)",
        f"INSERT INTO t SELECT g, g % 97, md5(g::text) FROM generate_series(1, {ROWS}) g",
    )
    conn.close()


def _spec(source: str, target: str) -> str:
    return (
        f"id: c\nkind: copy\nsource: {{url: '{source}'}}\ntarget: {{url: '{target}'}}\n"
        "copy: {batch_size: 2000, parallel: 2, max_retries: 2, retry_backoff: 0.2s}\n"
    )


def _exact(app: Moonshift, source: str, target: str) -> None:
    assert count(target, "t") == count(source, "t") == ROWS, f"seed {SEED}"
    assert all(c.matches for c in app.copies.verify("c")), f"seed {SEED}"


def _strike(victim: str, run: Run, daemons: Daemons) -> None:
    """kill -9 the run's worker, its daemon or both; a killed daemon is replaced at once."""
    if victim in ("worker", "both"):
        kill(run.worker_pid)
    if victim in ("daemon", "both"):
        daemons.kill()
        daemons.start()


def _lock(url: str, statement: str) -> psycopg.Connection[tuple[object, ...]]:
    """A transaction holding ``statement``'s lock until the connection is closed."""
    conn = psycopg.connect(url)
    conn.execute(statement)  # psycopg opened the transaction; it ends with the connection
    return conn


def test_kill_9_in_every_phase_loses_and_duplicates_nothing(
    tmp_path: Path, pg_database: str, pg_database_2: str, pg_state: str, proxy: Proxy
) -> None:
    rng = rng_for("phases")
    # before running the worker always dies (the daemon may too): nothing was written, so
    # the run is prepared again rather than failed
    victims = [rng.choice(VICTIMS[0::2]) for _ in range(2)] + [
        rng.choice(VICTIMS) for _ in range(2)
    ]
    _fill(pg_database)
    source = pg_database.replace(":5432/", f":{proxy.port}/")
    proxy.delay = 3.0  # the worker waits for the source while it analyzes
    plans = _lock(pg_state, "LOCK TABLE plans IN SHARE MODE")  # and for the lock to plan
    with copy_under_daemon(tmp_path, pg_state, _spec(source, pg_database_2)) as (app, daemons):
        run_id = app.runs.start("c", actor="test").id

        def strike(victim: str, run: Run, then: object = lambda: None) -> None:
            """kill -9, then ``then()``; the next phase is reached only by a new worker when
            the worker died (a daemon took the run over)."""
            _strike(victim, run, daemons)
            then()  # type: ignore[operator]

        def reached(state: State, what: str, more: object = lambda _r: True) -> Run:
            return wait_run(
                app,
                run_id,
                lambda r: r.state is state and r.worker_pid and more(r),  # type: ignore[operator]
                what,
            )

        strike(victims[0], reached(State.ANALYZING, "analyzing"))
        proxy.delay = 0.0
        # the killed worker's transaction waits for the lock, holding its run: let it end
        strike(victims[1], reached(State.PLANNING, "planning"), plans.close)
        point = rng.randrange(ROWS // 10, ROWS // 2)
        run = reached(
            State.RUNNING,
            f"running past row {point}",
            lambda r: r.progress is not None and r.progress.tables["t"].rows >= point,
        )
        # the constraints after the rows will wait for the test's lock on the table
        table = _lock(pg_database_2, "LOCK TABLE t IN ROW EXCLUSIVE MODE")
        # and the source goes away mid-copy and answers no more: the copy waits to reconnect
        proxy.hold()
        proxy.cut()
        strike(victims[2], run, proxy.release)
        # a slow test may strike after the rows: then the dead worker's last progress names a
        # phase already, and only a new worker's counts
        dead = run.worker_pid if victims[2] != "daemon" else None
        constraints = reached(
            State.RUNNING,
            "a phase after the rows",
            lambda r: (
                r.progress is not None and r.progress.phase is not None and r.worker_pid != dead
            ),
        )
        strike(victims[3], constraints, table.close)
        done = wait_run(app, run_id, lambda r: r.state is State.COMPLETED, "completed", 600)
        _exact(app, pg_database, pg_database_2)
        steps = history(app, "c")
        assert not [s for s in steps if "worker lost" in s[1]], steps
        requeued = [r for a, r in steps if a == "requeue" and r.startswith("taken over: ")]
        paused = [r for a, r in steps if a == "pause" and r.startswith("taken over: ")]
        told = f"victims {victims}; seed {SEED}; {steps}"
        # the worker died analyzing, and planning; under load a slow new worker may lose
        # its first lease too, which is taken over the same way
        assert len(requeued) >= 2, told
        assert len(paused) >= sum(v != "daemon" for v in victims[2:]), told
        assert len(app.runs.list("c")) == 1, f"seed {SEED}"  # never started anew
        assert done.state is State.COMPLETED


def test_outages_of_source_and_target_at_random_points(
    tmp_path: Path, pg_database: str, pg_database_2: str, pg_state: str
) -> None:
    """Short outages (shorter than the retries) are retried from the checkpoints; a long one
    pauses the run as unavailable, and the daemon resumes it once the database is back."""
    rng = rng_for("outages")
    _fill(pg_database)
    proxies = {"source": Proxy(5432), "target": Proxy(5432)}
    for found in proxies.values():
        found.start()
    source = pg_database.replace(":5432/", f":{proxies['source'].port}/")
    target = pg_database_2.replace(":5432/", f":{proxies['target'].port}/")
    long_side = rng.choice(["source", "target"])
    point = rng.randrange(ROWS // 20, ROWS // 2)
    try:
        with copy_under_daemon(tmp_path, pg_state, _spec(source, target)) as (app, _daemons):
            run_id = app.runs.start("c", actor="test").id

            def past(row: int) -> Run:
                return wait_run(
                    app,
                    run_id,
                    lambda r: r.progress is not None and r.progress.tables["t"].rows >= row,
                    f"past row {row}",
                )

            wait_run(app, run_id, lambda r: r.state is State.RUNNING, "running")
            proxies["source"].throttle = 0.1  # the rows flow slowly until the outages begin
            past(point)
            proxies["source"].throttle = 0.0
            # each outage comes while the copy waits out the backoff of the one before
            for side in ("target", "source"):
                proxies[side].hold()  # a short outage: cut, and no answer for a moment
                proxies[side].cut()
                time.sleep(rng.uniform(0.05, 0.5))
                proxies[side].release()
            proxies[long_side].stop()  # refused for longer than the retries
            paused = wait_run(
                app, run_id, lambda r: r.state is State.PAUSED, f"{long_side} unavailable"
            )
            assert (paused.reason or "").startswith(f"{long_side}_unavailable: "), paused.reason
            proxies[long_side].start()
            done = wait_run(app, run_id, lambda r: r.state is State.COMPLETED, "completed", 600)
            assert done.state is State.COMPLETED
            _exact(app, pg_database, pg_database_2)
            steps = history(app, "c")
            told = f"long {long_side}, at row {point}; seed {SEED}; {steps}"
            assert any(a == "copy retry" for a, _ in steps), told
            assert any(r.startswith(f"resumed after: {long_side}_unavailable") for _, r in steps)
    finally:
        for found in proxies.values():
            found.stop()


def test_starts_at_the_same_time_from_the_cli_and_python_copy_once(
    tmp_path: Path, pg_database: str, pg_database_2: str, pg_state: str, proxy: Proxy
) -> None:
    _fill(pg_database)
    proxy.delay = 1.0  # a slow source keeps the first copy busy while the others start
    source = pg_database.replace(":5432/", f":{proxy.port}/")
    env = {"MOONSHIFT_STATE": pg_state}
    with copy_under_daemon(tmp_path, pg_state, _spec(source, pg_database_2)) as (app, _daemons):
        cli = [sys.executable, "-m", "moonshift.cli"]
        python = [sys.executable, "-c", PYTHON_START, pg_state, str(tmp_path / ".moonshift")]
        starts = [[*cli, "run-now", "c", "--wait"], [*cli, "start", "c"], python, python]
        procs = [
            subprocess.Popen(
                argv,
                cwd=tmp_path,
                env={**_clean_env(), **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for argv in starts
        ]
        results = [(p.wait(120), *p.communicate()) for p in procs]
        (run,) = app.runs.list("c")
        done = wait_run(app, run.id, lambda r: r.state is State.COMPLETED, "completed", 600)
        assert done.state is State.COMPLETED
        refused = [r for r in results if f'"c" already has run {run.id}, ' in r[2]]
        assert len(refused) == 3, results
        _exact(app, pg_database, pg_database_2)
        assert app.copies.errors("c") == []  # no duplicate rows queued by a second copy


PYTHON_START = """
import sys
from moonshift.app import Moonshift, Settings
from moonshift.errors import Conflict
app = Moonshift(Settings.from_env(state=sys.argv[1], home=sys.argv[2], environ={}))
try:
    app.runs.execute(app.runs.run_now("c", actor="python").id)
except Conflict as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
"""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
