"""A table copied into a target table of another name: its checkpoints and progress go by
the target's name, its queued rows by the source's (where a retry reads them), so the copy
runs again and again and a batch with refused rows keeps its good rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.conftest import database_url
from tests.copy.helpers import apply, connector, copy_spec, count, create, execute, read, run_copy

ROWS = 200
TABLES = [{"source": "small", "target": "small_r"}]


def _source(url: str) -> None:
    create(url, "CREATE TABLE small (id INTEGER PRIMARY KEY, v VARCHAR(20))")
    conn = connector(url).connect()
    values = ", ".join(f"({i}, 'v{i}')" for i in range(1, ROWS + 1))
    execute(conn, f"INSERT INTO small (id, v) VALUES {values}")
    conn.close()


def _same(source: str, target: str) -> bool:
    return read(target, "small_r", ["id", "v"]) == read(source, "small", ["id", "v"])


@pytest.mark.parametrize(
    ("engine", "prep"),
    [
        ("sqlite", "none"),
        ("sqlite", "truncate"),
        pytest.param("postgres", "none", marks=pytest.mark.postgres),
        pytest.param("mariadb", "none", marks=pytest.mark.mariadb),
    ],
)
def test_a_renamed_table_copies_again_and_again(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str, prep: str, copy_app: Moonshift
) -> None:
    source = database_url(request, engine, tmp_path, "source")
    target = database_url(request, engine, tmp_path, "target")
    _source(source)
    policy = {"max_errors": 10 * ROWS, "max_error_rate": 1}
    spec = copy_spec(
        source, target, tables=TABLES, batch_size=64, target_prep=prep, error_policy=policy
    )
    apply(copy_app, spec)
    for attempt in range(3):
        run = run_copy(copy_app)
        assert run.state is State.COMPLETED, run.reason
        assert run.progress is not None and set(run.progress.tables) == {"small_r"}
        done = run.progress.tables["small_r"]
        # into a table kept as it is, a copy again finds every row there already
        assert (done.rows, done.bad) == (
            (ROWS, 0) if prep == "truncate" or not attempt else (0, ROWS)
        )
        assert count(target, "small_r") == ROWS and _same(source, target)
        assert all(c.matches for c in copy_app.copies.verify("c"))


def test_a_renamed_table_whose_batches_queue_refused_rows_keeps_its_good_rows(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = (f"sqlite:///{tmp_path / n}.db" for n in ("source", "target"))
    _source(source)
    # every tenth source row meets a target row holding its value
    create(target, "CREATE TABLE small_r (id INTEGER PRIMARY KEY, v VARCHAR(20) UNIQUE)")
    conn = connector(target).connect()
    blocking = ", ".join(f"({100_000 + i}, 'v{i}')" for i in range(10, ROWS + 1, 10))
    execute(conn, f"INSERT INTO small_r (id, v) VALUES {blocking}")
    conn.close()
    policy = {"max_errors": ROWS, "max_error_rate": 0.5}
    apply(copy_app, copy_spec(source, target, tables=TABLES, batch_size=64, error_policy=policy))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert run.progress is not None and run.progress.tables["small_r"].bad == ROWS // 10
    assert count(target, "small_r") == ROWS  # copied beside the blocking rows
    queued = copy_app.copies.errors("c")
    assert len(queued) == ROWS // 10 and {e.table_name for e in queued} == {"small"}
    # the blocking rows removed, a retry reads the queued rows from the source by name
    conn = connector(target).connect()
    execute(conn, "DELETE FROM small_r WHERE id > 100000")
    conn.close()
    retried = copy_app.copies.retry_errors("c", None, actor="test")
    assert {e.status for e in retried} == {"resolved"}
    assert _same(source, target)
