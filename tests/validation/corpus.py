"""An adversarial corpus for validation: values that engines hold differently though they
are equal (-0.0 and 0, float precision, decimal scale, CHAR padding, case and accents under
case-insensitive collations, timestamp precision, time zones, JSON key order, booleans,
SQLite's affinity), in enough rows that key ranges are split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tests.copy.helpers import create, insert
from tests.copy.readers import run_sql
from tests.copy.test_corpus import CORPUS

ROWS = 200

# columns both engines checksum themselves: key ranges are bisected in the databases
PLAIN = """CREATE TABLE plain (id integer PRIMARY KEY, n integer, label varchar(30),
at timestamp, price decimal(10,2), code char(4))"""
DDL = {
    "postgres": [
        """CREATE TABLE adv (id integer PRIMARY KEY, f8 double precision, f4 real,
        amount numeric(12,4), ch char(5), vc varchar(20), ts timestamp(6), tz timestamptz,
        js jsonb, b boolean)""",
        "CREATE TABLE words (w varchar(20) PRIMARY KEY, n integer)",
        PLAIN,
    ],
    "mariadb": [
        """CREATE TABLE adv (id INT PRIMARY KEY, f8 DOUBLE, f4 FLOAT, amount DECIMAL(12,4),
        ch CHAR(5), vc VARCHAR(20), ts DATETIME(6), tz TIMESTAMP(6) NULL, js JSON,
        b TINYINT(1)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci""",
        """CREATE TABLE words (w VARCHAR(20) PRIMARY KEY, n INT)
        DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci""",
        PLAIN.replace("timestamp", "DATETIME"),
    ],
    "sqlite": [
        """CREATE TABLE adv (id INTEGER PRIMARY KEY, f8 DOUBLE, f4 REAL, amount NUMERIC(12,4),
        ch CHAR(5), vc VARCHAR(20), ts TIMESTAMP, tz TIMESTAMPTZ, js JSON, b BOOLEAN)""",
        "CREATE TABLE words (w VARCHAR(20) PRIMARY KEY, n INTEGER)",
        PLAIN,
    ],
}
COLUMNS = ["id", "f8", "f4", "amount", "ch", "vc", "ts", "tz", "js", "b"]
SPECIAL = [
    (
        1,
        -0.0,
        -0.0,
        Decimal("-0.0000"),
        "ab",
        "Straße",
        datetime(2026, 3, 8, 2, 30, 15, 123456),
        datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-5))),
        '{"b": 1.50, "a": [1, null, "ü"]}',
        True,
    ),
    (
        2,
        0.1,
        0.1,
        Decimal("1.5000"),
        "",
        "ABC",
        datetime(2026, 3, 8, 2, 30, 15),
        datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC),
        '{"a": {"y": 2, "x": 1}}',
        False,
    ),
    (
        3,
        1e308,
        3.4e38,
        Decimal("99999999.9999"),
        "x    ",
        "abc ",
        datetime(2000, 2, 29, 0, 0, 0, 1),
        datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC),
        "[]",
        None,
    ),
    (4, None, None, None, None, None, None, None, None, None),
]
WORDS = [("apple", 1), ("Banana", 2), ("cherry", 3), ("Äpfel", 4), ("zebra", 5), ("Zulu", 6)]


def rows() -> list[tuple[Any, ...]]:
    found = list(SPECIAL)
    start = datetime(2026, 1, 1, 0, 0, 0, 500000)
    for i in range(len(SPECIAL) + 1, ROWS + 1):
        found.append(
            (
                i,
                i / 7,
                i / 3,
                Decimal(i) / 8,
                f"c{i % 97}",
                f"Name {i}",
                start + timedelta(minutes=i, microseconds=i),
                datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=i),
                f'{{"n": {i}, "k": "v{i}"}}',
                i % 2 == 0,
            )
        )
    return found


def build(engine: str, url: str) -> None:
    """This corpus and the copy tests' corpus of every type of the engine."""
    run_sql(url, *CORPUS[engine][0])
    for ddl in DDL[engine]:
        create(url, ddl)
    insert(url, "adv", COLUMNS, rows())
    insert(url, "words", ["w", "n"], WORDS)
    insert(url, "plain", ["id", "n", "label", "at", "price", "code"], plain())


def plain() -> list[tuple[Any, ...]]:
    at = datetime(2026, 1, 1)
    return [
        (i, i * 3, f"label {i}", at + timedelta(seconds=i), Decimal(i) / 4, f"c{i % 50}")
        for i in range(1, ROWS + 1)
    ]
