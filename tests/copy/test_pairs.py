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
