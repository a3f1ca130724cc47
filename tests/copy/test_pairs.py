"""Lossy mappings are refused (or warned about, when allowed) before any row moves; what
resolves them. (Every type of every engine, value for value: test_corpus.py.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, count, create, insert, read, run_copy


@pytest.mark.postgres
@pytest.mark.mariadb
def test_lossy_mappings_are_refused_before_any_row_moves(
    pg_database: str, mariadb_database: str, copy_app: Moonshift
) -> None:
    create(pg_database, "CREATE TABLE money (id BIGINT PRIMARY KEY, amount NUMERIC, n BIGINT)")
    insert(pg_database, "money", ["id", "amount", "n"], [(1, Decimal("1.5"), 7)])
    create(
        mariadb_database, "CREATE TABLE money (id BIGINT PRIMARY KEY, amount DECIMAL(65,30), n INT)"
    )
    apply(copy_app, copy_spec(pg_database, mariadb_database))
    run = run_copy(copy_app)
    assert run.state is State.FAILED
    assert "nothing was written" in (run.reason or "")
    assert "money.amount: lossy numeric -> decimal(65,30): narrowing: an unbounded NUMERIC" in (
        run.reason or ""
    )
    assert "money.n: lossy bigint -> int(11): narrowing: a 64-bit integer into a 32-bit one" in (
        run.reason or ""
    )
    assert count(mariadb_database, "money") == 0

    apply(copy_app, copy_spec(pg_database, mariadb_database, allow_lossy=["money.amount", "n"]))
    plan = copy_app.copies.plan("c")
    assert not plan.errors
    assert [str(w).split(":")[0] for w in plan.warnings] == ["money.amount", "money.n"]
    assert run_copy(copy_app).state is State.COMPLETED
    assert read(mariadb_database, "money", ["id", "amount", "n"]) == [["1", "1.5", "7"]]
    warned = [e.reason for e in copy_app.runs.history("c") if e.action == "plan warning"]
    assert len(warned) == 2 and "allowed by copy.allow_lossy" in (warned[0] or "")


@pytest.mark.mariadb
def test_unsigned_and_zero_dates_from_mariadb(
    mariadb_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    from tests.copy.helpers import connector, execute

    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE t (id BIGINT UNSIGNED PRIMARY KEY, d DATE)",
        "SET SESSION sql_mode = ''",
        "INSERT INTO t VALUES (18446744073709551615, '0000-00-00'), (1, '2026-01-01')",
    )
    conn.close()
    target = f"sqlite:///{tmp_path / 't.db'}"
    apply(copy_app, copy_spec(mariadb_database, target))
    run = run_copy(copy_app)
    assert run.state is State.FAILED
    assert "t.d: lossy: 1 rows hold MySQL zero dates" in (run.reason or "")
    apply(copy_app, copy_spec(mariadb_database, target, allow_lossy=["t.d"]))
    run = run_copy(copy_app)
    assert run.state is State.FAILED  # past 64 bits, a SQLite number is a REAL
    assert "t.id: lossy: 1 rows hold numbers with more than 15 significant digits" in (
        run.reason or ""
    )
    exact = {"t": {"columns": {"id": {"cast": "DECIMAL_TEXT(20,0)"}}}}
    apply(copy_app, copy_spec(mariadb_database, target, allow_lossy=["t.d"], overrides=exact))
    assert run_copy(copy_app).state is State.COMPLETED
    # the unsigned 64-bit key went to exact digits, as the cast said
    assert read(target, "t", ["id", "d"]) == [["1", "2026-01-01"], ["18446744073709551615", "\\N"]]


@pytest.mark.mariadb
def test_zero_dates_are_counted_per_column_in_one_scan(
    mariadb_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    """Three date columns probed: the indexed one by its index, the other two in one scan
    of the table; each count lands on its own column."""
    from tests.copy.helpers import connector, execute

    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE t (id INT PRIMARY KEY, a DATE, b DATETIME, c DATE, KEY by_c (c))",
        "SET SESSION sql_mode = ''",
        "INSERT INTO t VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00'),"
        " (2, '2026-01-01', '0000-00-00 00:00:00', '0000-00-00'),"
        " (3, '2026-01-02', '2026-01-02 03:04:05', '0000-00-00'), (4, NULL, NULL, NULL)",
    )
    conn.close()
    target = f"sqlite:///{tmp_path / 't.db'}"
    apply(copy_app, copy_spec(mariadb_database, target, allow_lossy=["t.a", "t.b", "t.c"]))
    warned = sorted(str(w) for w in copy_app.copies.plan("c").warnings)
    assert [w.split(",")[0] for w in warned] == [
        "t.a: lossy: 1 rows hold MySQL zero dates",
        "t.b: lossy: 2 rows hold MySQL zero dates",
        "t.c: lossy: 3 rows hold MySQL zero dates",
    ]
    assert run_copy(copy_app).state is State.COMPLETED
    assert read(target, "t", ["id", "a", "b", "c"])[0] == ["1", "\\N", "\\N", "\\N"]


@pytest.mark.mariadb
def test_a_large_tables_probes_scan_its_key_ranges_at_once_and_add_up(
    mariadb_database: str, tmp_path: Path, copy_app: Moonshift, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table keyed by one integer is scanned in ``parallel`` key ranges at once: every
    range's zero dates are counted, once."""
    from moonshift.copy import scans
    from tests.copy.helpers import connector, execute

    monkeypatch.setattr(scans, "PARALLEL_SCAN_ROWS", 1)  # this small table counts as large
    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE t (id INT PRIMARY KEY, a DATE, b DATETIME)",
        "SET SESSION sql_mode = ''",
        "INSERT INTO t SELECT seq, IF(seq % 10 = 0, '0000-00-00', '2026-01-01'), "
        "IF(seq % 25 = 0, '0000-00-00 00:00:00', NULL) FROM seq_1_to_1000",
    )
    source = connector(mariadb_database)
    ranges = scans.key_ranges(source, conn, source.read_schema().tables["t"], "t", 1000, 3)
    conn.close()
    assert ranges == [
        "`id` < 335 OR `id` IS NULL",
        "`id` >= 335 AND `id` < 669",
        "`id` >= 669",
    ]
    target = f"sqlite:///{tmp_path / 't.db'}"
    apply(copy_app, copy_spec(mariadb_database, target, allow_lossy=["t.a", "t.b"], parallel=3))
    warned = sorted(str(w).split(",")[0] for w in copy_app.copies.plan("c").warnings)
    assert warned == [
        "t.a: lossy: 100 rows hold MySQL zero dates",
        "t.b: lossy: 40 rows hold MySQL zero dates",
    ]


@pytest.mark.postgres
def test_a_second_probed_column_costs_no_second_scan(
    pg_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    """Decimals into SQLite are probed for digits a REAL loses: the table's probes share a
    scan, so planning two such columns scans the source as often as planning one."""
    create(pg_database, "CREATE TABLE one (id INT PRIMARY KEY, x NUMERIC(30,0))")
    create(pg_database, "CREATE TABLE two (id INT PRIMARY KEY, x NUMERIC(30,0), y NUMERIC(30,0))")
    rows = [(i, Decimal(i), Decimal(i)) for i in range(1, 50)] + [
        (50, Decimal("123456789012345678901"), 1)
    ]
    insert(pg_database, "one", ["id", "x"], [r[:2] for r in rows])
    insert(pg_database, "two", ["id", "x", "y"], rows)
    scans = {}
    for table in ("one", "two"):
        before = _seq_scans(pg_database, table)
        apply(
            copy_app,
            copy_spec(
                pg_database, f"sqlite:///{tmp_path / 't.db'}", tables=[table], allow_lossy=["x"]
            ),
        )
        warned = [str(w) for w in copy_app.copies.plan("c").warnings]
        assert any(w.startswith(f"{table}.x: lossy: 1 rows hold numbers") for w in warned), warned
        scans[table] = _seq_scans(pg_database, table, more_than=before) - before
    assert scans["two"] == scans["one"], scans


def _seq_scans(url: str, table: str, more_than: int = -1) -> int:
    """The table's sequential scans so far, once the statistics show more than
    ``more_than`` and have stood still for two seconds (closed connections' counts reach
    them within moments, one connection at a time)."""
    import time

    import psycopg

    deadline = time.monotonic() + 60
    seen, since = -1, time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            found = conn.execute(
                "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = %s", (table,)
            ).fetchone()
            scans = int(found[0]) if found else 0
            if scans != seen:
                seen, since = scans, time.monotonic()
            steady = time.monotonic() - since >= 2.0
            if (scans > more_than and steady) or time.monotonic() > deadline:
                return scans
            time.sleep(0.2)


@pytest.mark.postgres
def test_an_expression_column_is_probed_as_a_column_is(
    pg_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    """A new column an ``expr`` fills is counted like the others: digits a SQLite REAL
    cannot keep refuse the plan, naming the new column."""
    create(pg_database, "CREATE TABLE one (id INT PRIMARY KEY, x NUMERIC(30,0))")
    insert(pg_database, "one", ["id", "x"], [(1, Decimal(7)), (2, Decimal("1" * 21))])
    options = {"doubled": {"expr": "x * 2"}}
    target = f"sqlite:///{tmp_path / 't.db'}"
    apply(
        copy_app,
        copy_spec(
            pg_database, target, allow_lossy=["one.x"], overrides={"one": {"columns": options}}
        ),
    )
    errors = [str(e) for e in copy_app.copies.plan("c").errors]
    assert [e.split(",")[0] for e in errors] == [
        "one.doubled: lossy: 1 rows hold numbers with more than 15 significant digits"
    ], errors


def test_key_ranges_of_a_sqlite_key_count_its_nulls_and_leave_a_text_key_whole(
    tmp_path: Path,
) -> None:
    """SQLite keeps any value under any declared type, NULL too where the key is not the
    rowid: a NULL key is counted in the first range, and a key holding text is scanned
    whole."""
    from moonshift.copy import scans
    from tests.copy.helpers import connector

    url = f"sqlite:///{tmp_path / 's.db'}"
    create(url, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
    insert(url, "t", ["id", "v"], [(i, "x") for i in range(1, 11)] + [(None, "null key")])
    source = connector(url)
    conn = source.connect()
    try:
        table = source.read_schema().tables["t"]
        ranges = scans.key_ranges(source, conn, table, '"t"', 1_000_000, 2)
        assert len(ranges) == 2
        assert scans.parallel_counts(source, conn, 'SELECT COUNT(*) FROM "t"', [], ranges) == [11]
        conn.execute("INSERT INTO t VALUES ('abc', 'text key')")
        conn.commit()
        assert scans.key_ranges(source, conn, table, '"t"', 1_000_000, 2) == [None]
    finally:
        conn.close()
