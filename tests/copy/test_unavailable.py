"""Unavailable source or target: transient failures are retried from the checkpoint; past
max_retries the run pauses as source_unavailable, and goes on once the source answers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from moonshift.app import Moonshift, Settings
from moonshift.app.views import Run as RunRecord
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, connector, copy_spec, count, execute, run_copy
from tests.copy.proxy import Proxy
from tests.helpers import moonshift

pytestmark = pytest.mark.postgres
ROWS = 200_000


def _through(url: str, proxy: Proxy) -> str:
    return url.replace(":5432/", f":{proxy.port}/")


def _fill(pg_database: str) -> None:
    conn = connector(pg_database).connect()
    execute(
        conn,
        "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)",
        f"INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g",
    )
    conn.close()


def _source(pg_database: str, proxy: Proxy) -> str:
    _fill(pg_database)
    return _through(pg_database, proxy)


def _when_copying(app: Moonshift, action: object) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = app.store.list_runs("c", limit=1)
            progress = runs[0].progress if runs else None
            if progress and "t" in progress.tables and progress.tables["t"].rows > 0:
                action()  # type: ignore[operator]
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_lost_connection_is_retried_from_the_checkpoint(
    pg_database: str, pg_database_2: str, proxy: Proxy, copy_app: Moonshift
) -> None:
    source = _source(pg_database, proxy)
    apply(
        copy_app,
        copy_spec(source, pg_database_2, batch_size=2000, parallel=1, retry_backoff="0.1s"),
    )
    watcher = _when_copying(copy_app, proxy.cut)
    run = run_copy(copy_app)
    watcher.join()
    assert run.state is State.COMPLETED, run.reason
    assert count(pg_database_2, "t") == ROWS
    assert all(c.matches for c in copy_app.copies.verify("c"))
    retries = [e for e in copy_app.runs.history("c") if e.action == "copy retry"]
    assert retries and (retries[0].reason or "").startswith("t range 0: ")
    assert "retry 1 of 5 in" in (retries[-1].reason or "")


def test_past_max_retries_the_run_pauses_as_source_unavailable_then_resumes(
    pg_database: str, pg_database_2: str, proxy: Proxy, copy_app: Moonshift
) -> None:
    source = _source(pg_database, proxy)
    apply(
        copy_app,
        copy_spec(
            source, pg_database_2, batch_size=2000, parallel=1, max_retries=2, retry_backoff="0.05s"
        ),
    )
    watcher = _when_copying(copy_app, proxy.stop)
    run = run_copy(copy_app)
    watcher.join()
    assert run.state is State.PAUSED
    assert (run.reason or "").startswith("source_unavailable: ")
    assert run.not_before is not None and run.not_before > run.updated_at  # tries again later
    done = count(pg_database_2, "t")
    assert 0 < done < ROWS
    # still down: the retry finds it so, and pauses again without writing
    assert copy_app.runs.execute(run.id).state is State.PAUSED
    assert count(pg_database_2, "t") == done
    proxy.start()
    finished = copy_app.runs.execute(run.id)
    assert finished.state is State.COMPLETED, finished.reason
    assert all(c.matches for c in copy_app.copies.verify("c"))


def _wait(app: Moonshift, run_id: int, done: object, seconds: float = 60) -> RunRecord:
    deadline = time.monotonic() + seconds
    while True:
        run = app.runs.get(run_id)
        if done(run) or time.monotonic() > deadline:  # type: ignore[operator]
            return run
        time.sleep(0.05)


def test_a_target_outage_past_the_retries_pauses_then_the_daemon_resumes_it(
    tmp_path: Path, pg_database: str, pg_database_2: str, proxy: Proxy
) -> None:
    """The retries' own reconnects meet the outage too: the run pauses as target_unavailable
    (not failed), tries again after its backoff while the target is down, and completes
    once it is back."""
    _fill(pg_database)
    target = _through(pg_database_2, proxy)
    (tmp_path / "m.yaml").write_text(
        f"id: c\nkind: copy\nsource: {{url: '{pg_database}'}}\ntarget: {{url: '{target}'}}\n"
        "copy: {batch_size: 2000, parallel: 1, max_retries: 2, retry_backoff: 0.1s}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    daemon = moonshift(tmp_path, "daemon", "--detach", "--poll", "0.2")
    assert daemon.returncode == 0, daemon.stderr
    app = Moonshift(Settings.from_env(home=tmp_path / ".moonshift", environ={}))
    try:
        run_id = app.runs.run_now("c", actor="test").id
        _wait(app, run_id, lambda r: r.progress and r.progress.tables["t"].rows > 0)
        proxy.stop()
        paused = _wait(app, run_id, lambda r: r.state is not State.RUNNING)
        assert paused.state is State.PAUSED, paused.reason
        assert (paused.reason or "").startswith("target_unavailable: "), paused.reason
        # the daemon tries again after the backoff, finds the target still down, pauses again
        _wait(app, run_id, lambda r: r.state is State.RUNNING, seconds=30)
        again = _wait(app, run_id, lambda r: r.state is not State.RUNNING)
        assert again.state is State.PAUSED, again.reason
        proxy.start()
        finished = _wait(app, run_id, lambda r: r.state is State.COMPLETED)
        assert finished.state is State.COMPLETED, finished.reason
        assert count(pg_database_2, "t") == ROWS
        assert all(c.matches for c in app.copies.verify("c"))
        actions = [e.reason or "" for e in app.runs.history("c", limit=1000)]
        assert any("retry 2 of 2" in a for a in actions)
        assert any(a.startswith("resumed after: target_unavailable") for a in actions)
    finally:
        moonshift(tmp_path, "daemon", "stop")
        app.close()
