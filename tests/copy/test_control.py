"""Pause and resume, emergency stop, error isolation, and incremental passes: the target
always holds exactly what its checkpoints say, and in the end exactly the source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.lifecycle import State
from tests.copy.helpers import (
    apply,
    connector,
    copy_spec,
    count,
    create,
    execute,
    insert,
    read,
    run_copy,
    scalar,
)
from tests.scheduler.test_daemon import until

SHOP_ROWS = 60_000


def _shop(tmp_path: Path) -> str:
    from scripts.make_shop import build

    build(tmp_path / "shop.db", SHOP_ROWS)
    return f"sqlite:///{tmp_path / 'shop.db'}"


def _checkpointed_rows(url: str) -> int:
    return int(
        scalar(
            url,
            "SELECT COALESCE(SUM(rows_done), 0) FROM _moonshift_checkpoints WHERE range_id >= 0",
        )
    )


def _rows_of(app: Moonshift, run_id: int, table: str) -> int:
    progress = app.runs.get(run_id).progress
    return progress.tables[table].rows if progress and table in progress.tables else 0


def _start(app: Moonshift, tmp_path: Path, batch_size: int) -> tuple[int, str]:
    """A shop copy started in a background worker, once its first rows are in."""
    source, target = _shop(tmp_path), f"sqlite:///{tmp_path / 'copy.db'}"
    apply(app, copy_spec(source, target, batch_size=batch_size, parallel=1))
    run = app.runs.run_now("c", actor="test")
    app.runs.start_worker(run.id)
    # the first batch is in (read from the target: the run's progress is reported a second
    # late, and by then a fast machine has copied the whole shop)
    until(lambda: _exists(target, "_moonshift_checkpoints") and _checkpointed_rows(target))
    return run.id, target


def _target_rows(url: str) -> int:
    return sum(
        count(url, t) for t in ("customers", "products", "orders", "order_items") if _exists(url, t)
    )


def _exists(url: str, table: str) -> bool:
    return table in connector(url).read_schema().tables


@pytest.mark.parametrize("immediate", [False, True], ids=["pause", "stop-immediate"])
def test_pause_or_stop_leaves_exactly_the_checkpointed_rows_then_resume_finishes(
    tmp_path: Path, copy_app: Moonshift, immediate: bool
) -> None:
    run_id, target = _start(copy_app, tmp_path, 10)
    copies = copy_app.copies
    if immediate:
        copies.stop("c", actor="test", immediate=True)
    else:
        copies.pause("c", actor="test")
    # after a batch or two (nothing waits for the reader thread), however loaded the machine
    paused = until(lambda: (r := copy_app.runs.get(run_id)).state is State.PAUSED and r)
    assert paused.not_before is None  # an operator's pause waits for resume
    done = _target_rows(target)
    assert 0 < done < SHOP_ROWS
    assert done == _checkpointed_rows(target)  # nothing partial, nothing lost
    copies.resume("c", actor="test")
    finished = copy_app.runs.execute(run_id)
    assert finished.state is State.COMPLETED, finished.reason
    assert all(c.matches for c in copies.verify("c"))


def test_config_changes_batch_size_of_a_started_copy(tmp_path: Path, copy_app: Moonshift) -> None:
    # set before its worker takes it: on a quiet machine the whole shop is copied in 20-row
    # batches before a setting given mid-copy reaches the worker's next look at its run
    apply(copy_app, copy_spec(_shop(tmp_path), f"sqlite:///{tmp_path / 'copy.db'}", batch_size=20))
    run_id = copy_app.runs.run_now("c", actor="test").id
    copy_app.copies.configure("c", {"batch_size": "5000"}, actor="test")
    finished = copy_app.runs.execute(run_id)
    assert finished.state is State.COMPLETED, finished.reason
    items = finished.progress.tables["order_items"]
    assert items.batches < items.rows / 20  # it took the larger batches
    with pytest.raises(Exception, match="batch_size: must be a whole number from 1 to 10000000"):
        copy_app.copies.configure("c", {"batch_size": "0"}, actor="test")


@pytest.mark.postgres
@pytest.mark.parametrize("from_engine", ["sqlite", "postgres"])
def test_bisection_isolates_exactly_the_bad_rows(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_database: str,
    copy_app: Moonshift,
    from_engine: str,
) -> None:
    # from PostgreSQL the batches stream as COPY BINARY: a refused one is read again as rows
    source = (
        f"sqlite:///{tmp_path / 's.db'}"
        if from_engine == "sqlite"
        else str(request.getfixturevalue("pg_database_2"))
    )
    create(source, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty BIGINT, secret TEXT)")
    bad = {7, 500, 999}
    insert(
        source,
        "items",
        ["id", "qty", "secret"],
        [(i, -i if i in bad else i, f"s{i}") for i in range(1, 1001)],
    )
    create(
        pg_database,
        "CREATE TABLE items (id BIGINT PRIMARY KEY, qty BIGINT CHECK (qty >= 0), secret TEXT)",
    )
    apply(copy_app, copy_spec(source, pg_database, batch_size=128, redact=["secret"]))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert count(pg_database, "items") == 997
    copies = copy_app.copies
    queued = copies.errors("c")
    assert sorted(e.row_values["id"] for e in queued) == ["500", "7", "999"]
    assert all(e.row_values["secret"] == "***" and "check" in e.message for e in queued)
    by_id = {e.row_values["id"]: e for e in queued}
    copies.skip_error(by_id["7"].id, actor="test", reason="test row")
    conn = connector(source).connect()
    execute(conn, "UPDATE items SET qty = 1 WHERE id = 500")
    conn.close()
    results = copies.retry_errors("c", None, actor="test")
    assert {r.row_values["id"]: r.status for r in results} == {"500": "resolved", "999": "open"}
    assert count(pg_database, "items") == 998
    assert [e.row_values["id"] for e in copies.errors("c")] == ["999"]


@pytest.mark.postgres
def test_error_policy_fails_the_run_past_max_errors(
    tmp_path: Path, pg_database: str, copy_app: Moonshift
) -> None:
    source = f"sqlite:///{tmp_path / 's.db'}"
    create(source, "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER)")
    insert(source, "items", ["id", "qty"], [(i, -1 if i % 10 == 0 else 1) for i in range(1, 2001)])
    create(pg_database, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty BIGINT CHECK (qty >= 0))")
    apply(
        copy_app,
        copy_spec(source, pg_database, batch_size=100, parallel=1, error_policy={"max_errors": 5}),
    )
    run = run_copy(copy_app)
    assert run.state is State.FAILED
    assert "error_policy: 10 bad rows in 100 (max_errors 5" in (run.reason or "")


@pytest.mark.postgres
def test_incremental_pass_loses_no_row_inserted_at_the_boundary(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    create(
        pg_database,
        "CREATE TABLE events (id BIGINT PRIMARY KEY, updated_at TIMESTAMPTZ NOT NULL, v TEXT)",
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    insert(
        pg_database,
        "events",
        ["id", "updated_at", "v"],
        [(i, start + timedelta(seconds=i), f"v{i}") for i in range(1, 20_001)],
    )
    apply(
        copy_app,
        copy_spec(
            pg_database, pg_database_2, mode="incremental", cursor="updated_at", batch_size=500
        ),
    )
    boundary = start + timedelta(seconds=20_000)
    run = copy_app.runs.run_now("c", actor="test")
    copy_app.runs.start_worker(run.id)
    until(lambda: copy_app.runs.get(run.id).state is State.RUNNING)
    # while the pass runs: a row at exactly its upper bound, a newer one, an old row updated
    insert(
        pg_database,
        "events",
        ["id", "updated_at", "v"],
        [(20_001, boundary, "at"), (20_002, boundary + timedelta(seconds=1), "after")],
    )
    conn = connector(pg_database).connect()
    execute(
        conn,
        f"UPDATE events SET v = 'changed', updated_at = '{(boundary + timedelta(seconds=2)).isoformat()}' WHERE id = 3",
    )
    conn.close()
    assert (
        until(
            lambda: (r := copy_app.runs.get(run.id)).state in (State.COMPLETED, State.FAILED) and r
        ).state
        is State.COMPLETED
    )
    lag = copy_app.copies.lag("c")
    assert lag[0].rows_behind >= 2
    second = run_copy(copy_app)
    assert second.state is State.COMPLETED, second.reason
    columns = ["id", "updated_at", "v"]
    assert read(pg_database_2, "events", columns) == read(pg_database, "events", columns)
    assert copy_app.copies.lag("c")[0].rows_behind == 0


@pytest.mark.postgres
def test_rollback_truncate_and_point_in_time(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    create(pg_database, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
    insert(pg_database, "t", ["id", "v"], [(i, "new") for i in range(1, 101)])
    create(pg_database_2, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
    insert(pg_database_2, "t", ["id", "v"], [(1000, "old")])
    apply(copy_app, copy_spec(pg_database, pg_database_2, snapshot=True, target_prep="truncate"))
    assert run_copy(copy_app).state is State.COMPLETED
    assert count(pg_database_2, "t") == 100
    copies = copy_app.copies
    record = copies.rollback("c", strategy="point-in-time", actor="test", reason="bad data")
    assert record.state == "completed"
    assert record.tables == [{"table": "t", "rows_before": 100, "rows_after": 1}]
    assert read(pg_database_2, "t", ["id", "v"]) == [["1000", "old"]]
    copies.rollback("c", strategy="truncate", actor="test")
    assert count(pg_database_2, "t") == 0
    assert [r.strategy for r in copies.rollback_status("c")] == ["truncate", "point-in-time"]


def test_a_closing_window_pauses_the_copy_to_resume_on_its_own(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    """What the scheduler does when a copy's window closes, against a real worker."""
    run_id, target = _start(copy_app, tmp_path, 10)
    now = copy_app.clock.now()
    copy_app.store.request_control(
        run_id, ControlRequest(action=Action.PAUSE, reason="window_closed"), now=now
    )
    paused = until(lambda: (r := copy_app.runs.get(run_id)).state is State.PAUSED and r)
    assert paused.reason == "window_closed"
    assert paused.not_before is not None  # the scheduler resumes it when a window opens
    assert _target_rows(target) == _checkpointed_rows(target)
    finished = copy_app.runs.execute(run_id)
    assert finished.state is State.COMPLETED, finished.reason
    assert all(c.matches for c in copy_app.copies.verify("c"))


@pytest.mark.postgres
def test_rows_added_during_the_copy_and_refused_are_isolated_in_the_last_batch(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    """The last batch of a streamed table has no upper key, so rows added since the plan
    come along; when the target refuses it, it is read again within those same bounds."""
    conn = connector(pg_database).connect()
    execute(
        conn,
        "CREATE TABLE t (id BIGINT PRIMARY KEY, qty BIGINT)",
        "INSERT INTO t SELECT g, 1 FROM generate_series(1, 200000) g",
    )
    conn.close()
    create(pg_database_2, "CREATE TABLE t (id BIGINT PRIMARY KEY, qty BIGINT CHECK (qty >= 0))")
    apply(copy_app, copy_spec(pg_database, pg_database_2, batch_size=50, parallel=1))
    run = copy_app.runs.run_now("c", actor="test")
    copy_app.runs.start_worker(run.id)
    until(lambda: _rows_of(copy_app, run.id, "t"))
    insert(pg_database, "t", ["id", "qty"], [(300_000, 5), (300_001, -5)])
    done = until(lambda: (r := copy_app.runs.get(run.id)).state is State.COMPLETED and r)
    assert done.progress.tables["t"].rows < 200_002  # it was still copying when they came
    assert count(pg_database_2, "t") == 200_001
    assert [e.row_values["id"] for e in copy_app.copies.errors("c")] == ["300001"]
