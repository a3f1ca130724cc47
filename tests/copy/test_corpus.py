"""A corpus of every type family per engine (values, extremes, unicode, NULLs) copied with
``tables: "*"`` for every ordered pair of engines; both sides are read back with each
engine's own driver and text forms, and compared as docs/copy.md says the values change."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.conftest import ENGINES, database_url
from tests.copy.helpers import apply, copy_spec, run_copy
from tests.copy.readers import (
    Compare,
    boolean,
    document,
    float4,
    floating,
    hexed,
    instant,
    number,
    real_number,
    run_sql,
    same,
    sqlite_storage,
    texts,
    wall,
)


@dataclass(frozen=True)
class Col:
    name: str
    compare: Compare = same
    # the target's text of rows 1 and 2 where the rule changes the value, per target engine
    expect: dict[str, tuple[str, str]] = field(default_factory=dict)
    expect_compare: Compare = same
    decimal: bool = False  # in SQLite: a number (NUMERIC affinity), equal at 15 digits


POSTGRES = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy ☺')",
    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
    """CREATE TABLE corpus (id integer PRIMARY KEY, i2 smallint, i4 integer, i8 bigint,
    dec numeric(12,2), num numeric(38,10), f4 real, f8 double precision, t text,
    vc varchar(20), ch char(3), by bytea, b boolean, d date, tm time(6), ts timestamp(6),
    tz timestamptz(6), j json, jb jsonb, u uuid, m mood, dom posint, arr_t text[],
    arr_i integer[], r int4range, tr tsrange, iv interval, tv tsvector, ip inet, mac macaddr,
    x xml, mo money, bits bit(5), vb bit varying(8), pt point, ttz time with time zone,
    ma mood[])""",
    """INSERT INTO corpus VALUES (1, 1, -2, 3, 12.34, 12345.6789012345, 1.5, 0.1,
    'naïve café — 日本語 — 🚀👩‍💻', 'ünïcödé', 'abc', '\\x00ff10', true, '2026-02-28',
    '12:34:56.789012', '2026-03-08 02:30:15.123456', '2026-11-01 01:30:00.000001-05',
    '{"b": 1.50, "a": [1, null, "ü"]}', '{"k": {"n": 2.5}}',
    '12345678-1234-5678-1234-567812345678', 'happy ☺', 7, '{a,"b c",NULL}',
    '{{1,2},{3,4}}', '[1,10)', '[2020-01-01 10:00,2020-01-02)',
    '1 year 2 mons 3 days 04:05:06.789', 'the fat cat', '10.0.0.1/8', '08:00:2b:01:02:03',
    '<a>ü</a>', 12.34, B'10101', B'101', '(1.5,-2)', '12:34:56+02', '{"happy ☺",sad}')""",
    """INSERT INTO corpus VALUES (2, -32768, 2147483647, -9223372036854775808, 9999999999.99,
    -0.0000000001, 3.40282e38, -1.7976931348623157e308, '', '', 'xyz', '\\x', false,
    '1000-01-01', '23:59:59.999999', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00',
    '[]', '{}', '00000000-0000-0000-0000-000000000000', 'sad', 2147483647, '{}', '{}',
    'empty', '(,)', '-178000000 years', '', '::1', 'ff:ff:ff:ff:ff:ff', '',
    -1234567890123.45, B'00000', B'', '(0,0)', '00:00:00-12', '{}')""",
    """UPDATE corpus SET by = (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), ''), 'hex')
    FROM generate_series(0, 255) g) WHERE id = 2""",
    "INSERT INTO corpus (id) VALUES (3)",
]
POSTGRES_COLUMNS = [
    Col("id", number),
    Col("i2", number),
    Col("i4", number),
    Col("i8", number),
    Col("dec", number, decimal=True),
    Col("num", number, decimal=True),
    Col("f4", float4),
    Col("f8", floating),
    Col("t"),
    Col("vc"),
    Col("ch"),
    Col("by", hexed),
    Col("b", boolean),
    Col("d", wall),
    Col("tm", wall),
    Col("ts", wall),
    Col("tz", instant),
    Col("j", document),
    Col("jb", document),
    Col("u"),
    Col("m"),
    Col("dom", number),
    Col(
        "arr_t", same, dict.fromkeys(("mariadb", "sqlite"), ('["a", "b c", null]', "[]")), document
    ),
    Col("arr_i", same, dict.fromkeys(("mariadb", "sqlite"), ("[[1, 2], [3, 4]]", "[]")), document),
    Col("r"),
    Col("tr"),
    Col("iv"),
    Col("tv"),
    Col("ip"),
    Col("mac"),
    Col("x"),
    Col("mo", same, dict.fromkeys(("mariadb", "sqlite"), ("12.34", "-1234567890123.45")), number),
    Col("bits"),
    Col("vb"),
    Col("pt"),
    Col("ttz"),
    Col("ma", same, dict.fromkeys(("mariadb", "sqlite"), ('["happy ☺", "sad"]', "[]")), document),
]

MARIADB = [
    """CREATE TABLE corpus (id INT PRIMARY KEY, ti TINYINT, su SMALLINT UNSIGNED,
    mi MEDIUMINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED, dc DECIMAL(10,2), dw DECIMAL(20,6),
    fl FLOAT, db DOUBLE, bo TINYINT(1), bt BIT(5), ch CHAR(3), vc VARCHAR(20), tt TINYTEXT,
    tx TEXT, lt LONGTEXT, en ENUM('G','PG','it''s ☺'), st SET('a','b','c'), bn BINARY(4),
    vb VARBINARY(10), bl BLOB, d DATE, tm TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL,
    yr YEAR, js JSON, u UUID, ip INET6, g POINT) DEFAULT CHARSET=utf8mb4""",
    """INSERT INTO corpus VALUES (1, -1, 65535, -8388608, 42, 3, 9223372036854775807, 12.34,
    12345.678901, 1.5, 0.1, 1, b'10101', 'abc', 'ünï', 'tiny 🚀', 'text 日本語',
    'long — naïve', 'it''s ☺', 'a,c', 'ab', x'00ff', x'000102ff', '2026-02-28',
    '12:34:56.789012', '2026-03-08 02:30:15.123456', '2026-11-01 06:30:00.000001', 2024,
    '{"b": 1.50, "a": [1, null]}', '12345678-1234-5678-1234-567812345678', '2001:db8::1',
    ST_GeomFromText('POINT(1.5 -2)'))""",
    """INSERT INTO corpus VALUES (2, 127, 0, 8388607, -2147483648, -9223372036854775808, 0,
    -99999999.99, 999999999.999999, -3.40282e38, 1.7976931348623157e308, 0, b'00000', '',
    '', '', '', '', 'G', '', x'00000000', x'', x'', '1000-01-01', '23:59:59.999999',
    '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', 2155, '[]',
    '00000000-0000-0000-0000-000000000000', '::', ST_GeomFromText('POINT(0 0)'))""",
    "INSERT INTO corpus (id) VALUES (3)",
]
MARIADB_COLUMNS = [
    Col("id", number),
    Col("ti", number),
    Col("su", number),
    Col("mi", number),
    Col("i", number),
    Col("bi", number),
    Col("ubi", number, decimal=True),
    Col("dc", number, decimal=True),
    Col("dw", number, decimal=True),
    Col("fl", float4),
    Col("db", floating),
    Col("bo", boolean),
    Col("bt"),
    Col("ch"),
    Col("vc"),
    Col("tt"),
    Col("tx"),
    Col("lt"),
    Col("en"),
    Col("st", same, {"postgres": ("{a,c}", "{}")}),
    Col("bn", hexed),
    Col("vb", hexed),
    Col("bl", hexed),
    Col("d", wall),
    Col("tm", wall),
    Col("dt", wall),
    Col("ts", instant),
    Col("yr", number),
    Col("js", document),
    Col("u"),
    Col("ip"),
    Col("g", hexed),
]

SQLITE = [
    """CREATE TABLE corpus (id INTEGER PRIMARY KEY, i INT, bi BIGINT, nv NVARCHAR(160),
    vc VARYING CHARACTER(20), tx TEXT, cl CLOB, bl BLOB, re REAL, dd DOUBLE PRECISION,
    fl FLOAT, nm NUMERIC(10,2), dm DECIMAL(12,4), cur CURRENCY(10,2), bo BOOLEAN, d DATE,
    tm TIME, dt DATETIME, ts TIMESTAMP, tz TIMESTAMPTZ, js JSON, u UUID, untyped)""",
    """INSERT INTO corpus VALUES (1, 42, 9223372036854775807, 'naïve café — 日本語 🚀', 'ünï',
    'text', 'clob', x'00ff10', 1.5, 0.1, 2.5, 12.34, 12345.6789, 99.99, 1, '2026-02-28',
    '12:34:56.789012', '2026-03-08 02:30:15.123456', '2026-03-08 02:30:15',
    '2026-11-01 06:30:00.000001+00:00', '{"b": 1.50, "a": [1, null]}',
    '12345678-1234-5678-1234-567812345678', 7)""",
    """INSERT INTO corpus VALUES (2, -9223372036854775808, 0, '', '', '', '', x'',
    -1.7976931348623157e308, 2.2250738585072014e-308, 0.0, -99999999.99, -99999999.9999, 0, 0,
    '1000-01-01', '23:59:59.999999', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00',
    '1970-01-01 00:00:00+00:00', '[]', '00000000-0000-0000-0000-000000000000', -1)""",
    "INSERT INTO corpus (id) VALUES (3)",
]
SQLITE_COLUMNS = [
    Col("id", number),
    Col("i", number),
    Col("bi", number),
    Col("nv"),
    Col("vc"),
    Col("tx"),
    Col("cl"),
    Col("bl", hexed),
    Col("re", floating),
    Col("dd", floating),
    Col("fl", floating),
    Col("nm", real_number, decimal=True),
    Col("dm", real_number, decimal=True),
    Col("cur", real_number, decimal=True),
    Col("bo", boolean),
    Col("d", wall),
    Col("tm", wall),
    Col("dt", wall),
    Col("ts", wall),
    Col("tz", instant),
    Col("js", document),
    Col("u"),
    Col("untyped", number),
]
CORPUS = {
    "postgres": (POSTGRES, POSTGRES_COLUMNS),
    "mariadb": (MARIADB, MARIADB_COLUMNS),
    "sqlite": (SQLITE, SQLITE_COLUMNS),
}


CSV_PAIRS = {("mariadb", "postgres"), ("postgres", "mariadb")}


@pytest.mark.parametrize("src", ENGINES)
@pytest.mark.parametrize("dst", ENGINES)
def test_the_type_corpus_of_each_engine_copies_to_every_engine_by_the_documented_rules(
    request: pytest.FixtureRequest, tmp_path: Path, copy_app: Moonshift, src: str, dst: str
) -> None:
    source = database_url(request, src, tmp_path, "source")
    target = database_url(request, dst, tmp_path, "target")
    statements, columns = CORPUS[src]
    run_sql(source, *statements)
    apply(copy_app, copy_spec(source, target, tables="*", batch_size=2))
    if (src, dst) in CSV_PAIRS:  # the fast path between engines carries every type here
        assert copy_app.copies.plan("c").tables[0].how.startswith("CSV batches")
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    before, after = texts(source, "corpus"), texts(target, "corpus")
    assert list(after) == [c.name for c in columns]  # every column, in order
    assert len(after["id"]) == 3, (src, dst, [e.message for e in copy_app.copies.errors("c")])
    for col in columns:
        assert after[col.name][2] is None or col.name == "id", col.name  # the NULL row
        compare = real_number if col.decimal and "sqlite" in (src, dst) else col.compare
        compare = col.expect_compare if dst in col.expect else compare
        for row in (0, 1):
            want = col.expect.get(dst, (before[col.name][0], before[col.name][1]))[row]
            got = after[col.name][row]
            assert want is not None and got is not None, (col.name, row, want, got)
            assert compare(want, got), f"{col.name} row {row + 1}: {want!r} -> {got!r}"
        if dst == "sqlite" and col.decimal:  # numbers, not text: they compare as numbers
            assert set(sqlite_storage(target, "corpus", col.name)) <= {"integer", "real", "null"}
    assert all(check.matches for check in copy_app.copies.verify("c"))
