"""SQLite to SQLite: each batch is one INSERT ... SELECT from the source attached to the
target's connection; a table that fits in one batch is one statement with no key range,
which SQLite runs as a transfer of its records. Either way the target holds the source's
rows, values, storage classes and rowids exactly, each table's checkpoint says so, and a
pause or an emergency stop in the middle of a statement leaves nothing half done."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moonshift.app import Moonshift
from moonshift.connectors import sqlitewal
from moonshift.connectors.base import Stopped
from moonshift.connectors.sqlite import SqliteConnector
from moonshift.copy import keys
from moonshift.copy.batches import Batch, RangeCopier
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, run_copy

ROWS = 30_000  # enough of SQLite's instructions that a statement looks at its stop request
WHOLE, RANGED = 100_000, 700  # batch sizes: every table in one batch, or in several
TABLES = ("numbers", "pairs", "doubled")


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        CREATE TABLE numbers (id INTEGER PRIMARY KEY, n INT NOT NULL, r REAL, t TEXT, b BLOB,
            d NUMERIC(12,2), x);
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {ROWS})
        INSERT INTO numbers SELECT i * 3 - 2, i % 97, i / 7.0, 'tëxt ' || i, randomblob(i % 5),
            CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 12.5 ELSE i END,
            CASE i % 3 WHEN 0 THEN 9223372036854775807 WHEN 1 THEN 'any' ELSE x'00ff' END
        FROM g;
        INSERT INTO numbers (id, n) VALUES (-5, 0);
        CREATE TABLE pairs (k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n));
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 2000)
        INSERT INTO pairs SELECT 'k' || (i % 50), i, NULL FROM g;
        CREATE TABLE doubled (id INTEGER PRIMARY KEY, v INT,
            twice INT GENERATED ALWAYS AS (v * 2) STORED);
        INSERT INTO doubled (id, v) VALUES (1, 1), (2, NULL), (10, -4);
        """
    )
    conn.close()
    return f"sqlite:///{path}"


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row with its rowid and each value's storage class, in key order."""
    conn = sqlite3.connect(path)
    names = [r[1] for r in conn.execute(f"PRAGMA table_xinfo({table})")]
    classes = ", ".join(f"typeof({n})" for n in names)
    rowid = "rowid, " if table != "pairs" else ""  # a composite key's rowid is no value of it
    order = "k, n" if table == "pairs" else "id"
    rows = conn.execute(f"SELECT {rowid}*, {classes} FROM {table} ORDER BY {order}").fetchall()
    conn.close()
    return rows


def _checkpoints(path: Path) -> dict[str, tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    found = conn.execute(
        "SELECT table_name, rows_done, done, last_key FROM _moonshift_checkpoints "
        "WHERE range_id >= 0"
    ).fetchall()
    conn.close()
    return {row[0]: row[1:] for row in found}


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The INSERT ... SELECT statements the copy runs, as it runs them, each followed by
    "stopped" when it was interrupted."""
    seen: list[str] = []
    run = SqliteConnector.insert_attached

    def recorded(self: SqliteConnector, conn: Any, sql: str, *args: Any) -> int:
        seen.append(sql)
        try:
            return run(self, conn, sql, *args)
        except Stopped:
            seen.append("stopped")
            raise

    monkeypatch.setattr(SqliteConnector, "insert_attached", recorded)
    return seen


def _applied(app: Moonshift, tmp_path: Path, batch_size: int) -> tuple[Path, Path]:
    """The source (its TABLES filled) and the target of migration "c", which copies one into
    the other in batches of ``batch_size``; applied, not run."""
    source, target = tmp_path / "s.db", tmp_path / "t.db"
    apply(app, copy_spec(_source(source), f"sqlite:///{target}", batch_size=batch_size))
    return source, target


def _assert_exact(source: Path, target: Path) -> None:
    for table in TABLES:
        assert _rows(target, table) == _rows(source, table), table
    greatest = {"numbers": [ROWS * 3 - 2], "pairs": ["k9", 1959], "doubled": [10]}
    assert _checkpoints(target) == {
        table: (len(_rows(source, table)), 1, keys.encode(greatest[table])) for table in TABLES
    }


@pytest.mark.parametrize("batch_size", [WHOLE, RANGED], ids=["whole", "ranged"])
def test_rows_values_rowids_and_checkpoints_are_exact(
    tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    statements = _statements(monkeypatch)
    source, target = _applied(copy_app, tmp_path, batch_size)
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    _assert_exact(source, target)
    whole = [s for s in statements if " WHERE " not in s]
    if batch_size == WHOLE:
        assert sorted(whole) == [
            'INSERT INTO main."doubled" ("id", "v") SELECT "id", "v" FROM ms_source."doubled"',
            'INSERT INTO main."numbers" SELECT * FROM ms_source."numbers"',
            'INSERT INTO main."pairs" SELECT * FROM ms_source."pairs"',
        ]
    else:  # the tables larger than a batch go by key ranges
        assert [s for s in whole if "numbers" in s or "pairs" in s] == []
    # the rowid alias is created without a NOT NULL the source does not have (which would
    # keep SQLite from transferring records); it cannot hold a NULL all the same
    conn = sqlite3.connect(target)
    assert [r[3] for r in conn.execute("PRAGMA table_info(numbers)")][:2] == [0, 1]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO pairs (k, n) VALUES (NULL, 1)")
    conn.close()


@pytest.mark.parametrize("batch_size", [2000, 1999])
def test_a_table_of_exactly_one_batch_is_one_statement(
    tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    statements = _statements(monkeypatch)
    source, target = _applied(copy_app, tmp_path, batch_size)
    assert run_copy(copy_app).state is State.COMPLETED
    pairs = [s for s in statements if '"pairs"' in s]  # its 2,000 rows
    whole = ['INSERT INTO main."pairs" SELECT * FROM ms_source."pairs"']
    assert (pairs == whole) is (batch_size == 2000), pairs
    _assert_exact(source, target)


def _held_until(monkeypatch: pytest.MonkeyPatch, ask: Callable[[], None], flag: str) -> list[Batch]:
    """The whole-table statement of "numbers" waits, once it has asked for a stop (``ask``),
    until the copy has taken the request in (``flag`` of its flags is set): a request that
    comes while the statement runs, however loaded the machine."""
    held: list[Batch] = []
    insert = RangeCopier._insert_select

    def holding(self: RangeCopier, conn: Any, batch: Batch) -> int:
        if batch.whole and self.plan.source == "numbers" and not held:
            held.append(batch)
            ask()
            deadline = time.monotonic() + 60
            while not getattr(self.job.flags, flag).is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
        return insert(self, conn, batch)

    monkeypatch.setattr(RangeCopier, "_insert_select", holding)
    return held


@pytest.mark.parametrize("immediate", [False, True], ids=["pause", "stop-immediate"])
def test_a_stop_during_a_whole_table_statement_duplicates_nothing_and_resumes(
    tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch, immediate: bool
) -> None:
    source, target = _applied(copy_app, tmp_path, WHOLE)
    copies = copy_app.copies

    def ask() -> None:
        if immediate:
            copies.stop("c", actor="test", immediate=True)
        else:
            copies.pause("c", actor="test")

    statements = _statements(monkeypatch)
    held = _held_until(monkeypatch, ask, "abort" if immediate else "stop")
    run = run_copy(copy_app)
    assert run.state is State.PAUSED, run.reason
    assert len(held) == 1
    # an emergency stop does not wait for the statement: it is interrupted
    assert ("stopped" in statements) is immediate
    first = "numbers"
    done = _checkpoints(target)
    conn = sqlite3.connect(target)
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    conn.close()
    # a pause lets the statement finish and commit with its checkpoint; an emergency stop
    # interrupts it, and its table is as it was, checkpoint and all
    assert counts[first] == (0 if immediate else len(_rows(source, first)))
    assert done[first] == ((0, 0, None) if immediate else (counts[first], 1, done[first][2]))
    assert all(counts[t] == done[t][0] for t in TABLES)  # nothing beyond its checkpoint
    assert sum(counts.values()) < sum(len(_rows(source, t)) for t in TABLES)
    copies.resume("c", actor="test")
    finished = copy_app.runs.execute(run.id)
    assert finished.state is State.COMPLETED, finished.reason
    _assert_exact(source, target)


def test_batches_reach_the_database_file_while_the_copy_runs(
    tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit does not copy the WAL into the database file (a checkpoint, which would hold
    the writer): a side connection does, while the next batch is written. Without it nothing
    would write the file before the copy's end: its batches stay far below the 1,000 pages
    of WAL at which a commit copies them."""
    source, target = _applied(copy_app, tmp_path, RANGED)
    write = RangeCopier.write
    written: list[bool] = []

    def watched(self: RangeCopier, conn: Any, batch: Batch, after: Any) -> int:
        before = target.stat().st_mtime_ns
        rows = write(self, conn, batch, after)
        if self.plan.source == "numbers" and not written:  # its first batch
            deadline = time.monotonic() + 90
            while target.stat().st_mtime_ns == before and time.monotonic() < deadline:
                time.sleep(0.05)
            written.append(target.stat().st_mtime_ns != before)
        return rows

    monkeypatch.setattr(RangeCopier, "write", watched)
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert written == [True]
    _assert_exact(source, target)


def test_a_reader_holding_an_old_snapshot_does_not_hold_the_batches_back(
    tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its limit the WAL is copied whole before the next batch, so that it starts over;
    a reader of an older snapshot keeps that from ever happening, and then the batches go
    on (the WAL grows, as it would anyway)."""
    source, target = _applied(copy_app, tmp_path, RANGED)
    monkeypatch.setattr(sqlitewal, "WAL_LIMIT_BYTES", 64 << 10)  # a batch or two
    monkeypatch.setattr(sqlitewal, "PACE_SECONDS", 5.0)  # each of 40 batches would wait it
    write = RangeCopier.write
    readers: list[sqlite3.Connection] = []

    def watched(self: RangeCopier, conn: Any, batch: Batch, after: Any) -> int:
        rows = write(self, conn, batch, after)
        if self.plan.source == "numbers":
            time.sleep(0.02)  # batches slower than the side connection looks at the WAL
        if self.plan.source == "numbers" and not readers:  # after its first batch
            reader = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM numbers").fetchone()
            readers.append(reader)
        return rows

    monkeypatch.setattr(RangeCopier, "write", watched)
    started = time.monotonic()
    run = run_copy(copy_app)
    took = time.monotonic() - started
    readers[0].close()
    assert run.state is State.COMPLETED, run.reason
    assert took < 60, took
    _assert_exact(source, target)


@pytest.mark.parametrize("batch_size", [WHOLE, 128], ids=["whole", "ranged"])
def test_rows_the_target_refuses_are_isolated_and_the_rest_copied(
    tmp_path: Path, copy_app: Moonshift, batch_size: int
) -> None:
    """A statement the target refuses is undone and its rows go through the row path's
    bisection, a whole table's as a batch's: only the refused rows are left out."""
    source, target = tmp_path / "s.db", tmp_path / "t.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INT)")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?)", [(i, -i if i in (7, 500) else i) for i in range(1, 1001)]
    )
    conn.commit()
    conn.close()
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INT CHECK (qty >= 0))")
    conn.close()
    apply(copy_app, copy_spec(f"sqlite:///{source}", f"sqlite:///{target}", batch_size=batch_size))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert sorted(e.row_values["id"] for e in copy_app.copies.errors("c")) == ["500", "7"]
    conn = sqlite3.connect(target)
    ids = [row[0] for row in conn.execute("SELECT id FROM items ORDER BY id")]
    conn.close()
    assert ids == [i for i in range(1, 1001) if i not in (7, 500)]
    assert _checkpoints(target)["items"] == (998, 1, keys.encode([1000]))
