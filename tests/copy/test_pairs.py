"""Every ordered pair of engines: the type-fidelity table survives value for value, and
lossy mappings are refused (or warned about, when allowed) before any row moves."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from moonshift.app import Moonshift
from moonshift.connectors.values import comparable
from moonshift.domain.lifecycle import State
from tests.copy.conftest import ENGINES, database_url
from tests.copy.helpers import apply, copy_spec, count, create, insert, read, run_copy

FIDELITY_DDL = {
    "sqlite": """CREATE TABLE fidelity (id INTEGER PRIMARY KEY, big BIGINT, num DECIMAL_TEXT(38,10),
        f8 DOUBLE, txt TEXT, raw BLOB, flag BOOLEAN, day DATE, ts TIMESTAMP, tstz TIMESTAMPTZ,
        doc JSON, uid UUID)""",
    "postgres": """CREATE TABLE fidelity (id BIGINT PRIMARY KEY, big BIGINT, num NUMERIC(38,10),
        f8 DOUBLE PRECISION, txt TEXT, raw BYTEA, flag BOOLEAN, day DATE, ts TIMESTAMP(6),
        tstz TIMESTAMP(6) WITH TIME ZONE, doc JSONB, uid UUID)""",
    "mariadb": """CREATE TABLE fidelity (id BIGINT PRIMARY KEY, big BIGINT, num DECIMAL(38,10),
        f8 DOUBLE, txt LONGTEXT, raw LONGBLOB, flag TINYINT(1), day DATE, ts DATETIME(6),
        tstz TIMESTAMP(6) NULL, doc JSON, uid CHAR(36)) DEFAULT CHARSET=utf8mb4""",
}
COLUMNS = ["id", "big", "num", "f8", "txt", "raw", "flag", "day", "ts", "tstz", "doc", "uid"]
TOKYO, NEW_YORK = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
ROWS: list[tuple[Any, ...]] = [
    (
        1,
        9_223_372_036_854_775_807,
        Decimal("1234567890123456789012345678.0123456789"),
        0.1 + 0.2,
        "naïve café — 日本語 — emoji 🚀👩‍💻",
        bytes(range(256)),
        True,
        date(2026, 2, 28),
        datetime(2026, 3, 8, 2, 30, 15, 123456),
        datetime(2026, 11, 1, 1, 30, 0, 1, tzinfo=NEW_YORK),
        {"a": [1, 2.5, None], "b": {"ü": "✓"}, "c": True},
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    (
        2,
        -9_223_372_036_854_775_808,
        Decimal("-0.0000000001"),
        -1.7976931348623157e308,
        "",
        b"",
        False,
        date(1970, 1, 2),
        datetime(1999, 12, 31, 23, 59, 59, 999999),
        datetime(2030, 1, 1, 9, 0, tzinfo=TOKYO),
        [],
        uuid.UUID(int=0),
    ),
    (3, *([None] * 11)),
]


def _url(request: pytest.FixtureRequest, engine: str, tmp_path: Path, side: str) -> str:
    return database_url(request, engine, tmp_path, side)


@pytest.mark.parametrize("src", ENGINES)
@pytest.mark.parametrize("dst", ENGINES)
def test_type_fidelity_table_survives_every_engine_pair(
    request: pytest.FixtureRequest, tmp_path: Path, copy_app: Moonshift, src: str, dst: str
) -> None:
    source = _url(request, src, tmp_path, "source")
    target = _url(request, dst, tmp_path, "target")
    create(source, FIDELITY_DDL[src])
    insert(source, "fidelity", COLUMNS, ROWS)
    apply(copy_app, copy_spec(source, target, batch_size=2))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    expected = [[comparable(v) for v in row] for row in ROWS]
    assert read(source, "fidelity", COLUMNS) == expected  # the source held them exactly
    assert read(target, "fidelity", COLUMNS) == expected
    assert all(check.matches for check in copy_app.copies.verify("c"))


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
    assert run_copy(copy_app).state is State.COMPLETED
    # the unsigned 64-bit key went to an exact decimal, not a signed integer
    assert read(target, "t", ["id", "d"]) == [["1", "2026-01-01"], ["18446744073709551615", "\\N"]]
