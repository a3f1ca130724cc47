"""Parallel key ranges for any key: text, uuid and composite keys split at sampled
boundaries; each range copies on its own, and the target equals the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.conftest import database_url
from tests.copy.helpers import apply, connector, copy_spec, execute, run_copy

pytestmark = pytest.mark.postgres
ROWS = 6_000

# (table, DDL on PostgreSQL, DDL elsewhere, INSERT ... SELECT of ROWS rows from ``n``)
KEYS = {
    "text": (
        "CREATE TABLE t (code VARCHAR(40) PRIMARY KEY, v INT NOT NULL)",
        "CREATE TABLE t (code VARCHAR(40) PRIMARY KEY, v INT NOT NULL)",
    ),
    "uuid": (
        "CREATE TABLE t (id UUID PRIMARY KEY, v INT NOT NULL)",
        None,  # PostgreSQL's own type
    ),
    "composite": (
        "CREATE TABLE t (tenant VARCHAR(10) NOT NULL, n INT NOT NULL, v INT NOT NULL, "
        "PRIMARY KEY (tenant, n))",
        "CREATE TABLE t (tenant VARCHAR(10) NOT NULL, n INT NOT NULL, v INT NOT NULL, "
        "PRIMARY KEY (tenant, n))",
    ),
}


def _fill(url: str, kind: str) -> None:
    c = connector(url)
    pg_ddl, other_ddl = KEYS[kind]
    ddl = pg_ddl if c.engine == "postgresql" else other_ddl
    assert ddl is not None
    rows: list[tuple[object, ...]]
    if kind == "text":
        rows = [(f"k{(i * 7919) % ROWS:05d}-{i}", i) for i in range(ROWS)]
    elif kind == "uuid":
        import uuid

        rows = [(uuid.uuid5(uuid.NAMESPACE_OID, str(i)), i) for i in range(ROWS)]
    else:
        rows = [(f"t{i % 3}", i, i * 2) for i in range(ROWS)]
    conn = c.connect()
    try:
        execute(conn, ddl)
        c.begin(conn)
        marks = ", ".join([c.placeholder] * len(rows[0]))
        conn.cursor().executemany(f"INSERT INTO t VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()


def _rows(url: str) -> list[tuple[str, ...]]:
    c = connector(url)
    conn = c.connect()
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT * FROM t")
        found = sorted(tuple(str(v) for v in row) for row in cursor.fetchall())
        conn.rollback()
        return found
    finally:
        conn.close()


def _ranges(url: str) -> list[tuple[str | None, str | None, int]]:
    conn = connector(url).connect()
    try:
        rows = conn.execute(
            "SELECT lo, hi, rows_done FROM _moonshift_checkpoints "
            "WHERE table_name = 't' AND range_id >= 0 ORDER BY range_id"
        ).fetchall()
        conn.rollback()
        return [tuple(r) for r in rows]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("engine", "kind"),
    [
        ("sqlite", "text"),
        ("sqlite", "composite"),
        ("postgres", "text"),
        ("postgres", "uuid"),
        ("postgres", "composite"),
        pytest.param("mariadb", "text", marks=pytest.mark.mariadb),
        pytest.param("mariadb", "composite", marks=pytest.mark.mariadb),
    ],
)
def test_any_key_splits_into_sampled_ranges_that_copy_exactly(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_database_2: str,
    copy_app: Moonshift,
    engine: str,
    kind: str,
) -> None:
    source = database_url(request, engine, tmp_path, "source")
    _fill(source, kind)
    apply(copy_app, copy_spec(source, pg_database_2, batch_size=500, parallel=3))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    ranges = _ranges(pg_database_2)
    assert len(ranges) == 6, ranges
    assert ranges[0][0] is None and ranges[-1][1] is None
    assert all(lo is not None for lo, _, _ in ranges[1:])
    assert sum(done for _, _, done in ranges) == ROWS
    # a sample's boundaries: every range holds a share of the rows, none is empty
    assert min(done for _, _, done in ranges) > ROWS // 20, ranges
    assert _rows(pg_database_2) == _rows(source)
    assert all(check.matches for check in copy_app.copies.verify("c"))


def test_a_large_postgresql_table_is_split_on_a_tablesample(
    pg_database: str, pg_database_2: str, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SAMPLE_ROWS rows PostgreSQL orders a TABLESAMPLE, not every key: the boundaries
    are rougher, the copy as exact."""
    from moonshift.copy import boundaries

    monkeypatch.setattr(boundaries, "SAMPLE_ROWS", ROWS // 2)
    _fill(pg_database, "text")
    apply(copy_app, copy_spec(pg_database, pg_database_2, batch_size=500, parallel=3))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    ranges = _ranges(pg_database_2)
    assert 2 <= len(ranges) <= 6, ranges
    assert sum(done for _, _, done in ranges) == ROWS
    assert _rows(pg_database_2) == _rows(pg_database)


def test_unset_batches_are_larger_where_they_stream_and_a_size_given_is_kept() -> None:
    from moonshift.domain.spec import MigrationSpec

    def spec(copy: dict[str, object]) -> MigrationSpec:
        ends = {"source": {"url": "sqlite:///a.db"}, "target": {"url": "sqlite:///b.db"}}
        return MigrationSpec.model_validate({"id": "m", "kind": "copy", **ends, "copy": copy})

    unset = spec({}).copy_spec
    assert (unset.batch_rows(False), unset.batch_rows(True)) == (50_000, 250_000)
    given = spec({"batch_size": 50_000})
    again = MigrationSpec.model_validate(given.canonical()).copy_spec  # as stored and read
    assert (again.batch_rows(False), again.batch_rows(True)) == (50_000, 50_000)
