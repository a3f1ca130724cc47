"""Values between engines, in three steps that every copy path shares:

1. ``decoder``: what a source's driver returns -> moonshift's own value of the column's family;
2. ``transform``: a family's value -> the value of the target column's family, by the rule
   docs/copy.md gives for the pair (an array becomes a JSON array, a SET a list of members,
   a decimal in SQLite the number SQLite keeps);
3. ``encoder``: moonshift's value -> what the target's driver writes.

moonshift's own value of each family: int, Decimal, float, str, bytes, bool, date, time,
naive datetime (TIMESTAMP), aware datetime (TIMESTAMPTZ), JSON text (str, so numbers stay
exact), uuid.UUID, str (ENUM), list of str (SET), str of 0 and 1 (BITS), list (ARRAY),
bytes (SPATIAL: WKB). Columns whose values need nothing get no function at all, so the hot
loop skips them. ``canonical`` is the text in which equal values are equal on every
engine (checksums, tests).
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal
from typing import Any

from moonshift.connectors.typemap import INT64_MAX, SQLITE_EXACT_DIGITS
from moonshift.connectors.types import Family, SqlType, sqlite_affinity

F = Family
_EXACT = Context(prec=1000)
_SQLITE_REAL = Context(prec=SQLITE_EXACT_DIGITS)
Convert = Callable[[Any], Any]


def _none_safe(func: Convert) -> Convert:
    return lambda v: None if v is None else func(v)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _iso_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _time_of(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta):  # PyMySQL reads TIME as a duration
        return (datetime.min + value).time()
    return time.fromisoformat(str(value))


def _uuid_of(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, bytes) and len(value) == 16:
        return uuid.UUID(bytes=value)
    return uuid.UUID(str(value))


def _decimal_of(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # a REAL in a NUMERIC column: SQLite's 15 digits
        return Decimal(format(value, f".{SQLITE_EXACT_DIGITS}g"))
    return Decimal(value.decode() if isinstance(value, bytes) else str(value))


def _bytes_of(value: Any) -> bytes:
    """SQLite's BLOB affinity keeps whatever was stored: text and numbers as their text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict):
        return json_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def _members(value: Any) -> list[str]:
    if isinstance(value, set | frozenset | list | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return [m for m in str(value).split(",") if m]


def _bits_of(length: int | None) -> Convert:
    def bits(value: Any) -> str:
        if isinstance(value, bytes):  # MySQL's BIT(n), big-endian
            return format(int.from_bytes(value, "big"), f"0{length or 1}b")
        return str(value)

    return bits


# -- JSON, exactly --------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """JSON text of a value: str is taken as JSON text already; Decimals are written with
    every digit (the json module would need floats)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    return _dump(value)


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(_EXACT), "f")


def _dump(value: Any, *, sort: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal_text(value) if sort else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return json.dumps(str(value))
        return _decimal_text(Decimal(repr(value))) if sort else repr(value)
    if isinstance(value, dict):
        items = sorted(value.items()) if sort else value.items()
        return (
            "{"
            + ",".join(
                json.dumps(str(k), ensure_ascii=False) + ":" + _dump(v, sort=sort) for k, v in items
            )
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dump(v, sort=sort) for v in value) + "]"
    if isinstance(value, datetime | date | time):
        return json.dumps(value.isoformat())
    if isinstance(value, bytes | memoryview):
        return json.dumps("\\x" + bytes(value).hex())
    return json.dumps(str(value), ensure_ascii=False)


def _json_loads(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    if isinstance(value, int | float | Decimal):  # SQLite's NUMERIC affinity took a number
        return value
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


def _json_value(value: Any) -> str:
    """A JSON column's value as JSON text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _dump(value)
    return json_text(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and numbers by value, so equal documents are equal text."""
    return _dump(_json_loads(value), sort=True)


# -- 1. decoding ----------------------------------------------------------------------------

_DECODE: dict[str, dict[Family, Convert]] = {
    "postgresql": {  # psycopg returns moonshift's own values, but these read as text
        F.JSON: _json_value,
        F.ARRAY: _json_loads,  # read as to_jsonb(...)::text
    },
    "mysql": {
        F.BOOL: bool,
        F.JSON: _json_value,
        F.UUID: _uuid_of,
        F.TIME: _time_of,
        F.TIMESTAMPTZ: _utc,  # sessions run in UTC
        F.SET: _members,
    },
    "sqlite": {
        F.TEXT: _text_of,  # a column without a declared type may hold numbers too
        F.DECIMAL: _decimal_of,
        F.FLOAT: float,
        F.BOOL: bool,
        F.BYTES: _bytes_of,
        F.DATE: lambda v: v if isinstance(v, date) else date.fromisoformat(str(v)),
        F.TIME: _time_of,
        F.TIMESTAMP: lambda v: _naive_utc(_iso_datetime(v)),
        F.TIMESTAMPTZ: lambda v: _utc(_iso_datetime(v)),
        F.JSON: _json_value,
        F.UUID: _uuid_of,
        F.SET: _members,
    },
}


def decoder(engine: str, column: SqlType | None) -> Convert | None:
    """Driver value -> moonshift's value; None when the driver's value is moonshift's."""
    if column is None:
        return None
    if column.family is F.BITS:
        func: Convert | None = _bits_of(column.length)
    else:
        func = _DECODE[engine].get(column.family)
    return _none_safe(func) if func else None


# -- 2. the rule between families -----------------------------------------------------------


def _sqlite_number(value: Any) -> Any:
    """What SQLite's NUMERIC affinity keeps: an integer within 64 bits as INTEGER, any
    other number as a REAL, whose 15 significant digits read it back."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if number == number.to_integral_value() and abs(number) <= INT64_MAX:
        return int(number)
    return _SQLITE_REAL.plus(number)


_TRANSFORMS: dict[tuple[Family, Family], Convert] = {
    (F.ARRAY, F.JSON): json_text,
    (F.ARRAY, F.TEXT): json_text,
    (F.SET, F.TEXT): lambda v: ",".join(_members(v)),
    (F.SET, F.ARRAY): _members,
    (F.TIMESTAMPTZ, F.TIMESTAMP): _naive_utc,
    (F.BOOL, F.INT): int,
}


def transform(src: SqlType | None, dst: SqlType | None, target_engine: str) -> Convert | None:
    """The documented rule for a value of ``src`` in a column of ``dst``."""
    if src is None or dst is None:
        return None
    if _sqlite_numeric(target_engine, dst) and src.family in (F.INT, F.DECIMAL):
        return _none_safe(_sqlite_number)
    func = _TRANSFORMS.get((src.family, dst.family))
    return _none_safe(func) if func else None


# -- 3. encoding ----------------------------------------------------------------------------


def _sqlite_numeric(engine: str, column: SqlType) -> bool:
    """A SQLite decimal column with NUMERIC affinity (not moonshift's older DECIMAL_TEXT)."""
    return (
        engine == "sqlite" and column.family is F.DECIMAL and sqlite_affinity(column.raw) != "TEXT"
    )


def _pg_json(jsonb: bool) -> Convert:
    from psycopg.types.json import Json, Jsonb

    wrap = Jsonb if jsonb else Json
    return lambda v: wrap(json_text(v), dumps=lambda text: text)


def _sqlite_decimal(value: Any) -> Any:
    kept = _sqlite_number(value)
    return kept if isinstance(kept, int) else float(kept)


def _encoders(engine: str, target: SqlType) -> Convert | None:
    family = target.family
    if family is F.TEXT:
        return _text_of
    table: dict[Family, Convert]
    if engine == "postgresql":
        table = {
            F.JSON: _pg_json("jsonb" in target.raw.lower()),
            F.TIMESTAMP: _naive_utc,
            F.TIMESTAMPTZ: _utc,
            F.UUID: _uuid_of,
            F.BOOL: bool,
            F.TIME: _time_of,
            F.ARRAY: list,
        }
        return table.get(family)
    if engine == "mysql":
        table = {
            F.JSON: json_text,
            F.UUID: str,
            F.BOOL: int,
            F.TIMESTAMP: _naive_utc,
            F.TIMESTAMPTZ: _naive_utc,
            F.SET: lambda v: ",".join(_members(v)),
            F.BITS: lambda v: int(v, 2) if isinstance(v, str) else v,
        }
        if family is F.BITS and "bit" not in target.raw.lower():
            return None
        return table.get(family)
    table = {
        F.DECIMAL: _sqlite_decimal if _sqlite_numeric(engine, target) else str,
        F.BOOL: int,
        F.DATE: lambda v: v.isoformat(),
        F.TIME: lambda v: _time_of(v).isoformat(),
        F.TIMESTAMP: lambda v: _naive_utc(v).isoformat(sep=" "),
        F.TIMESTAMPTZ: lambda v: _utc(v).isoformat(sep=" "),
        F.JSON: json_text,
        F.UUID: str,
        F.SET: lambda v: ",".join(_members(v)),
    }
    return table.get(family)


def encoder(engine: str, target: SqlType | None) -> Convert | None:
    """moonshift's value -> what the target's driver writes; None when nothing is needed."""
    if target is None:
        return None
    func = _encoders(engine, target)
    return _none_safe(func) if func else None


def converter(steps: Sequence[Convert | None]) -> Convert | None:
    """Several conversions in a row, skipping the empty ones."""
    present = [s for s in steps if s is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def chained(value: Any) -> Any:
        for step in present:
            value = step(value)
        return value

    return chained


def convert_rows(rows: Sequence[Sequence[Any]], converters: Sequence[Convert | None]) -> list[Any]:
    """Apply per-column conversions to rows; columns with none are left as they are."""
    active = [(i, c) for i, c in enumerate(converters) if c is not None]
    if not active:
        return list(rows)
    out = []
    for row in rows:
        values = list(row)
        for index, convert in active:
            values[index] = convert(values[index])
        out.append(values)
    return out


# -- comparing values across engines (checksums, tests) -------------------------------------


def comparable(value: Any) -> str:
    """A text form in which values equal across engines are equal: instants in UTC,
    decimals without trailing zeros, JSON documents with sorted keys."""
    value = getattr(value, "obj", value)  # psycopg's Json wrappers
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list | tuple):
        return _dump(value, sort=True)
    return str(value)


def canonical(family: Family | None) -> Convert:
    """``comparable`` for a column of ``family`` (JSON and arrays compare by content)."""
    if family in (F.JSON, F.ARRAY):
        return lambda v: "\\N" if v is None else canonical_json(getattr(v, "obj", v))
    return comparable


def row_digest(values: Sequence[str]) -> int:
    """A 128-bit hash of a row's canonical values; summed, they make an order-free checksum."""
    text = "\x1f".join(values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
