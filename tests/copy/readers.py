"""Reading tables back without moonshift: each engine's own driver and its own text form
of every value, and comparisons written from the rules in docs/copy.md, not from the code."""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import psycopg
import pymysql
from sqlalchemy.engine import make_url


def _mysql(url: str) -> Any:
    u = make_url(url)
    conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username, database=u.database)
    with conn.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
    return conn


def texts(url: str, table: str, key: str = "id") -> dict[str, list[str | None]]:
    """Every column of ``table`` as the engine's own text, rows in key order (binary
    values as hex, bit strings as 0 and 1, geometries as their WKB in hex)."""
    if url.startswith("postgresql"):
        with psycopg.connect(url, options="-c TimeZone=UTC") as conn:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    (f'"{table}"',),
                )
            ]
            select = ", ".join(f'"{n}"::text' for n in names)
            rows = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY "{key}"').fetchall()
    elif url.startswith("mysql"):
        conn = _mysql(url)
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                (table,),
            )
            columns = cursor.fetchall()
            names = [c[0] for c in columns]
            select = ", ".join(_mysql_text(n, kind, full) for n, kind, full in columns)
            cursor.execute(f"SELECT {select} FROM `{table}` ORDER BY `{key}`")
            rows = cursor.fetchall()
        conn.close()
    else:
        conn = sqlite3.connect(make_url(url).database or "")
        names = [r[1] for r in conn.execute(f'PRAGMA table_xinfo("{table}")')]
        select = ", ".join(f'"{n}"' for n in names)
        found = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY "{key}"').fetchall()
        conn.close()
        rows = [tuple(_sqlite_text(v) for v in row) for row in found]
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def _sqlite_text(value: Any) -> str | None:
    """SQLite's value as text: a REAL exactly (SQLite's own printf rounds), a BLOB in hex."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _mysql_text(name: str, kind: str, full: str) -> str:
    q = f"`{name}`"
    if kind == "bit":
        width = full[full.index("(") + 1 : full.index(")")]
        return f"LPAD(BIN({q}), {width}, '0')"
    if kind in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return f"LOWER(HEX({q}))"
    if kind in ("geometry", "point", "linestring", "polygon"):
        return f"LOWER(HEX(ST_AsBinary({q})))"
    if kind in ("float", "double"):
        return f"CAST({q} AS DOUBLE)"
    return f"CAST({q} AS CHAR)"


def sqlite_storage(url: str, table: str, column: str) -> list[str]:
    """SQLite's storage class of each value of a column, in rowid order."""
    conn = sqlite3.connect(make_url(url).database or "")
    try:
        return [r[0] for r in conn.execute(f'SELECT typeof("{column}") FROM "{table}" ORDER BY 1')]
    finally:
        conn.close()


# -- comparing one value as the rules say -------------------------------------------------


def number(a: str, b: str) -> bool:
    return Decimal(a) == Decimal(b)


def floating(a: str, b: str) -> bool:
    return float(a) == float(b)


def float4(a: str, b: str) -> bool:
    def single(text: str) -> float:
        return float(struct.unpack("f", struct.pack("f", float(text)))[0])

    return single(a) == single(b)


def boolean(a: str, b: str) -> bool:
    truth = {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False}
    return truth[a.lower()] == truth[b.lower()]


def _instant(text: str) -> datetime:
    text = text.replace("T", " ")
    if text.endswith(("+00", "-00")) or (
        len(text) > 3 and text[-3] in "+-" and text[-3:].lstrip("+-").isdigit()
    ):
        text += ":00"
    found = datetime.fromisoformat(text)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def instant(a: str, b: str) -> bool:
    return _instant(a) == _instant(b)


def wall(a: str, b: str) -> bool:
    """A date, a time or a timestamp without zone, however many fraction digits."""
    if len(a) == 10 and len(b) == 10:
        return date.fromisoformat(a) == date.fromisoformat(b)
    if ":" in a and "-" not in a:
        return time.fromisoformat(a) == time.fromisoformat(b)
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def document(a: str, b: str) -> bool:
    return json.loads(a, parse_float=Decimal) == json.loads(b, parse_float=Decimal)


def hexed(a: str, b: str) -> bool:
    def clean(text: str) -> str:
        return text.lower().removeprefix("\\x")

    return clean(a) == clean(b)


def same(a: str, b: str) -> bool:
    return a == b


Compare = Callable[[str, str], bool]


def run_sql(url: str, *statements: str) -> None:
    """Statements through the engine's own driver, committed."""
    if url.startswith("postgresql"):
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
    elif url.startswith("mysql"):
        conn = _mysql(url)
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'")
            for statement in statements:
                cursor.execute(statement)
        conn.commit()
        conn.close()
    else:
        conn = sqlite3.connect(make_url(url).database or "")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()


def real_number(a: str, b: str) -> bool:
    """A decimal on one side, SQLite's REAL on the other: equal at 15 significant digits."""
    return format(float(a), ".15g") == format(float(b), ".15g") or number(a, b)
