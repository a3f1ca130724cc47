"""The text path between MariaDB and PostgreSQL: batches travel as CSV that the servers
spell and load themselves. It is taken (the plan and the log say so), it carries values
that CSV and escaping get wrong when done carelessly, and a value the target refuses
still goes through the row path's bad-row isolation."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.errors import TransientError
from tests.copy.helpers import apply, connector, copy_spec, create, read, run_copy

NASTY = [
    "tab\there",
    "line\nbreak",
    "cr\rreturn\r\n",
    "back\\slash",
    "\\N",
    "NULL",
    'quote"d""',
    "comma, and; more",
    "",
    "naïve café — 日本語 🚀",
    "\\.",
    "ends with a backslash\\",
    "'single'",
    "%s %(x)s",
]
BINARY = [b"", b"\x00", b"\n\r\t", b"\\", b'"', b",", bytes(range(256))]


def _rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for i, text in enumerate(NASTY, 1):
        blob = BINARY[i % len(BINARY)] + text.encode()
        rows.append((i, text, blob, json.dumps({"k": text, "n": 1.50}), f"{i}.25"))
    rows.append((len(NASTY) + 1, None, None, None, None))
    return rows


def _fill_mariadb(url: str, extra: tuple[tuple[object, ...], ...] = ()) -> None:
    create(
        url,
        "CREATE TABLE nasty (id INT PRIMARY KEY, t TEXT, b BLOB, j JSON, n DECIMAL(10,2)) "
        "DEFAULT CHARSET=utf8mb4",
    )
    conn = connector(url).connect()
    try:
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO nasty VALUES (%s, %s, %s, %s, %s)", [*_rows(), *extra])
        conn.commit()
    finally:
        conn.close()


COLUMNS = ["id", "t", "b", "j", "n"]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_mariadb_to_postgresql_takes_the_csv_path_and_carries_nasty_values(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    _fill_mariadb(mariadb_database)
    apply(copy_app, copy_spec(mariadb_database, pg_database, batch_size=4))
    plan = copy_app.copies.plan("c")
    assert plan.tables[0].how == "CSV batches: GROUP_CONCAT into COPY FROM STDIN"
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert any("GROUP_CONCAT into COPY" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if "rows instead" in r.getMessage()]
    assert read(pg_database, "nasty", COLUMNS) == read(mariadb_database, "nasty", COLUMNS)
    texts = [row[1] for row in read(pg_database, "nasty", ["id", "t"])]
    assert texts == [*NASTY, "\\N"]  # comparable text of NULL is \N; of the string, itself


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_value_postgresql_refuses_sets_aside_its_row_and_the_batch_goes_on(
    mariadb_database: str, pg_database: str, copy_app: Moonshift
) -> None:
    bad = len(NASTY) + 2
    _fill_mariadb(mariadb_database, ((bad, "nul \x00 inside", b"", "{}", "1.00"),))
    apply(copy_app, copy_spec(mariadb_database, pg_database, batch_size=1000))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    errors = copy_app.copies.errors("c")
    assert [e.row_key for e in errors] == [f"[{bad}]"], errors
    copied = read(pg_database, "nasty", COLUMNS)
    assert copied == [r for r in read(mariadb_database, "nasty", COLUMNS) if r[0] != str(bad)]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_not_null_and_nullable_columns_of_each_kind_travel_as_csv_exactly(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    """A NOT NULL column is spelled without the NULL guard, a nullable one with it; dates,
    times and instants are spelled by CONCAT; text as UTF-8 bytes, converted from another
    character set (latin1); every value arrives as it was."""
    kinds = {
        "t": "VARCHAR(20)",
        "d": "DATE",
        "dt": "DATETIME",
        "dt6": "DATETIME(6)",
        "ts": "TIMESTAMP(3)",
        "n": "DECIMAL(12,3)",
        "f": "TINYINT(1)",
        "l": "CHAR(3) CHARACTER SET latin1",
        "e": "ENUM('a', 'it''s ☺')",
        "s": "SET('x', 'é')",
    }
    names = ["id", *kinds, *(f"{c}_null" for c in kinds)]
    columns = [f"{c} {t} NOT NULL" for c, t in kinds.items()]
    columns += [f"{c}_null {t} NULL" for c, t in kinds.items()]
    create(mariadb_database, f"CREATE TABLE kinds (id INT PRIMARY KEY, {', '.join(columns)})")
    values = [
        (
            'a"b',
            "2024-02-29",
            "1999-12-31 23:59:59",
            "2020-01-01 00:00:00.000001",
            "2038-01-19 03:14:07.999",
            "-123456789.125",
            1,
            "é,\n",
            "it's ☺",
            "x,é",
        ),
        (
            "",
            "1000-01-01",
            "9999-12-31 23:59:59",
            "2000-06-15 12:00:00.500000",
            "1970-01-01 00:00:01.000",
            "0.000",
            0,
            "   ",
            "a",
            "",
        ),
    ]
    rows = [(1, *values[0], *values[0]), (2, *values[1], *values[1]), (3, *values[0], *[None] * 10)]
    conn = connector(mariadb_database).connect()
    try:
        with conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO kinds VALUES ({', '.join(['%s'] * 21)})", rows)
        conn.commit()
    finally:
        conn.close()
    apply(copy_app, copy_spec(mariadb_database, pg_database, batch_size=10))  # one batch
    plan = copy_app.copies.plan("c")
    assert plan.tables[0].how == "CSV batches: GROUP_CONCAT into COPY FROM STDIN"
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    fallbacks = ("rows instead", "more than one read holds")
    assert not [r for r in caplog.records if any(f in r.getMessage() for f in fallbacks)]
    compared = [n for n in names if not n.startswith("s")]  # a SET becomes an array
    copied = read(pg_database, "kinds", compared)
    assert copied == read(mariadb_database, "kinds", compared)
    assert copied[2][10:] == ["\\N"] * 9  # the row whose nullable columns are NULL
    members = "SELECT s::text, s_null::text FROM kinds ORDER BY id"
    assert scalar_rows(pg_database, members) == [
        ("{x,é}", "{x,é}"),
        ("{}", "{}"),
        ("{x,é}", None),
    ]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_zero_dates_allowed_to_become_null_travel_as_csv(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    """MariaDB's zero dates, allowed by allow_lossy, arrive as NULL on the CSV path; the
    other dates as they were. A NOT NULL column whose zero dates become NULL is created
    nullable: the NULLs were allowed."""
    from tests.copy.helpers import execute

    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE dated (id INT PRIMARY KEY, d DATE NOT NULL, dt DATETIME(6), ts TIMESTAMP NULL)",
        "SET SESSION sql_mode = ''",
        "INSERT INTO dated VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '2026-01-02 03:04:05'),"
        " (2, '2026-02-28', '2026-02-28 23:59:59.123456', '0000-00-00 00:00:00'),"
        " (3, '1999-12-31', NULL, NULL)",
    )
    conn.close()
    allowed = ["dated.d", "dated.dt", "dated.ts"]
    apply(copy_app, copy_spec(mariadb_database, pg_database, batch_size=10, allow_lossy=allowed))
    assert (
        copy_app.copies.plan("c").tables[0].how == "CSV batches: GROUP_CONCAT into COPY FROM STDIN"
    )
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert copy_app.copies.errors("c") == []
    assert not [r for r in caplog.records if "rows instead" in r.getMessage()]
    assert scalar_rows(
        pg_database, "SELECT id, d::text, dt::text, ts::text FROM dated ORDER BY id"
    ) == [
        (1, None, None, "2026-01-02 03:04:05+00"),
        (2, "2026-02-28", "2026-02-28 23:59:59.123456", None),
        (3, "1999-12-31", None, None),
    ]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_zero_date_in_a_key_goes_to_the_error_queue_and_the_copy_completes(
    mariadb_database: str, pg_database: str, copy_app: Moonshift
) -> None:
    """A key column cannot take the NULL a zero date becomes: its row is set aside, and the
    key is built on the others."""
    from tests.copy.helpers import execute

    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE ev (id INT, d DATE NOT NULL, v INT, PRIMARY KEY (id, d))",
        "SET SESSION sql_mode = ''",
        "INSERT INTO ev VALUES (1, '0000-00-00', 1), (2, '2026-01-01', 2)",
    )
    conn.close()
    apply(copy_app, copy_spec(mariadb_database, pg_database, allow_lossy=["ev.d"]))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert [e.row_key for e in copy_app.copies.errors("c")] == ["[1, null]"]  # as converted
    assert scalar_rows(pg_database, "SELECT id, d::text FROM ev") == [(2, "2026-01-01")]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_not_null_column_read_through_an_expression_keeps_its_nulls(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    """``expr:`` may make a NOT NULL column's value NULL: its field keeps the NULL guard, so
    no line of a batch vanishes, and batches stay whole."""
    create(mariadb_database, "CREATE TABLE names (id INT PRIMARY KEY, s VARCHAR(10) NOT NULL)")
    conn = connector(mariadb_database).connect()
    try:
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO names VALUES (%s, %s)", [(1, ""), (2, "b"), (3, "")])
        conn.commit()
    finally:
        conn.close()
    create(pg_database, "CREATE TABLE names (id INT PRIMARY KEY, s VARCHAR(10))")
    columns = {"s": {"expr": "NULLIF(s, '')"}}
    spec = copy_spec(mariadb_database, pg_database, overrides={"names": {"columns": columns}})
    apply(copy_app, spec)
    assert (
        copy_app.copies.plan("c").tables[0].how == "CSV batches: GROUP_CONCAT into COPY FROM STDIN"
    )
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    fallbacks = ("rows instead", "more than one read holds")
    assert not [r for r in caplog.records if any(f in r.getMessage() for f in fallbacks)]
    assert scalar_rows(pg_database, "SELECT id, s FROM names ORDER BY id") == [
        (1, None),
        (2, "b"),
        (3, None),
    ]


@pytest.mark.postgres
def test_a_csv_batch_that_loads_fewer_lines_than_it_counted_is_refused(pg_database: str) -> None:
    """A line the source spelled as NULL would vanish from its batch: the count catches it,
    and the batch goes to the row path instead of committing short."""
    create(pg_database, "CREATE TABLE few (id INT PRIMARY KEY, t TEXT)")
    target = connector(pg_database)
    conn = target.connect()
    try:
        with pytest.raises(Exception, match="COPY took 1 of 2 rows") as caught:
            target.write_csv(conn, "few", ["id", "t"], [None, None], b'1,"a"\n', 2)
        assert not isinstance(target.translate(caught.value), TransientError)
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.postgres
@pytest.mark.mariadb
def test_batches_larger_than_a_packet_are_read_in_smaller_pieces(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    create(mariadb_database, "CREATE TABLE wide (id INT PRIMARY KEY, t LONGTEXT)")
    conn = connector(mariadb_database).connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT @@max_allowed_packet")
            (packet,) = cursor.fetchone()
            size = 1 << 20
            for i in range(1, packet // size + 4):  # a few rows more than a packet holds
                cursor.execute(
                    "INSERT INTO wide VALUES (%s, REPEAT(%s, %s))", (i, chr(97 + i % 26), size)
                )
        conn.commit()
    finally:
        conn.close()
    apply(copy_app, copy_spec(mariadb_database, pg_database, batch_size=10_000))
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert any("more than one read holds" in r.getMessage() for r in caplog.records)
    digest = "SELECT COUNT(*), SUM(LENGTH(t)), MD5(GROUP_CONCAT(MD5(t) ORDER BY id)) FROM wide"
    pg_digest = (
        "SELECT COUNT(*), SUM(LENGTH(t)), MD5(STRING_AGG(MD5(t), ',' ORDER BY id)) FROM wide"
    )
    assert str(scalar_row(pg_database, pg_digest)) == str(scalar_row(mariadb_database, digest))


def scalar_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = connector(url).connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        rows = [tuple(row) for row in cursor.fetchall()]
        conn.rollback()
        return rows
    finally:
        conn.close()


def scalar_row(url: str, sql: str) -> tuple[object, ...]:
    conn = connector(url).connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        conn.rollback()
        return tuple(int(v) if not isinstance(v, str) else v for v in row)
    finally:
        conn.close()


@pytest.mark.postgres
@pytest.mark.mariadb
def test_postgresql_to_mariadb_takes_the_load_data_path_and_carries_nasty_values(
    mariadb_database: str, pg_database: str, copy_app: Moonshift, caplog: pytest.LogCaptureFixture
) -> None:
    create(
        pg_database,
        "CREATE TABLE nasty (id INT PRIMARY KEY, t TEXT, b BYTEA, j JSONB, n NUMERIC(10,2))",
    )
    conn = connector(pg_database).connect()
    try:
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO nasty VALUES (%s, %s, %s, %s, %s)", _rows())
        conn.commit()
    finally:
        conn.close()
    apply(copy_app, copy_spec(pg_database, mariadb_database, batch_size=4))
    plan = copy_app.copies.plan("c")
    assert plan.tables[0].how == "CSV batches: string_agg into LOAD DATA LOCAL INFILE"
    with caplog.at_level(logging.INFO, logger="moonshift.copy"):
        run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert any("LOAD DATA LOCAL INFILE" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if "rows instead" in r.getMessage()]
    assert read(mariadb_database, "nasty", COLUMNS) == read(pg_database, "nasty", COLUMNS)
    texts = [row[1] for row in read(mariadb_database, "nasty", ["id", "t"])]
    assert texts == [*NASTY, "\\N"]


@pytest.mark.mariadb
def test_a_connection_sends_no_client_file_outside_a_batch_load(
    mariadb_database: str, tmp_path: Path
) -> None:
    """LOAD DATA LOCAL lets the server name any client file: moonshift's connections answer
    only while a batch loads its own."""
    create(mariadb_database, "CREATE TABLE notes (t TEXT)")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the server\n")
    conn = connector(mariadb_database).connect()
    try:
        with conn.cursor() as cursor, pytest.raises(Exception, match="local_infile"):
            cursor.execute(f"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE notes")
    finally:
        conn.close()
    conn = connector(mariadb_database).connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM notes")
            assert cursor.fetchone() == (0,)
    finally:
        conn.close()
