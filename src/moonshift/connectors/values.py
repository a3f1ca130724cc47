"""Values between drivers: each engine's driver values to moonshift's own, and back.

moonshift's own value of each family: int, Decimal, float, str, bytes, bool, date, time,
naive datetime (TIMESTAMP), aware datetime (TIMESTAMPTZ), parsed JSON, uuid.UUID. A reader
decodes what its driver returns into these; a writer encodes them for its driver. Columns
whose values need nothing get no function at all, so the hot loop skips them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal
from typing import Any

from moonshift.connectors.types import Family, SqlType

F = Family
_EXACT = Context(prec=1000)
Convert = Callable[[Any], Any]


def _none_safe(func: Convert) -> Convert:
    return lambda v: None if v is None else func(v)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _iso_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _json_loads(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    return json.loads(value) if isinstance(value, str) else value


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
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


_DECODE: dict[str, dict[Family, Convert]] = {
    "postgresql": {},  # psycopg returns moonshift's own values already
    "mysql": {
        F.BOOL: bool,
        F.JSON: _json_loads,
        F.UUID: _uuid_of,
        F.TIME: _time_of,
        F.TIMESTAMPTZ: _utc,  # sessions run in UTC
    },
    "sqlite": {
        F.DECIMAL: _decimal_of,
        F.FLOAT: float,
        F.BOOL: bool,
        F.DATE: lambda v: v if isinstance(v, date) else date.fromisoformat(str(v)),
        F.TIME: _time_of,
        F.TIMESTAMP: lambda v: _naive_utc(_iso_datetime(v)),
        F.TIMESTAMPTZ: lambda v: _utc(_iso_datetime(v)),
        F.JSON: _json_loads,
        F.UUID: _uuid_of,
    },
}


def _pg_json(jsonb: bool) -> Convert:
    from psycopg.types.json import Json, Jsonb

    wrap = Jsonb if jsonb else Json
    return lambda v: wrap(_json_loads(v) if isinstance(v, str | bytes) else v)


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
        }
        return table.get(family)
    if engine == "mysql":
        table = {
            F.JSON: lambda v: json.dumps(v, ensure_ascii=False),
            F.UUID: str,
            F.BOOL: int,
            F.TIMESTAMP: _naive_utc,
            F.TIMESTAMPTZ: _naive_utc,
        }
        return table.get(family)
    table = {
        F.DECIMAL: str,
        F.BOOL: int,
        F.DATE: lambda v: v.isoformat(),
        F.TIME: lambda v: _time_of(v).isoformat(),
        F.TIMESTAMP: lambda v: _naive_utc(v).isoformat(sep=" "),
        F.TIMESTAMPTZ: lambda v: _utc(v).isoformat(sep=" "),
        F.JSON: lambda v: json.dumps(v, ensure_ascii=False),
        F.UUID: str,
    }
    return table.get(family)


def decoder(engine: str, column: SqlType | None) -> Convert | None:
    """Driver value -> moonshift's value; None when the driver's value is moonshift's."""
    if column is None:
        return None
    func = _DECODE[engine].get(column.family)
    return _none_safe(func) if func else None


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
    decimals without trailing zeros, JSON with sorted keys."""
    value = getattr(value, "obj", value)  # psycopg's Json wrappers
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(_EXACT), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def row_digest(values: Sequence[Any]) -> int:
    """A 128-bit hash of a row's comparable values; summed, they make an order-free checksum."""
    text = "\x1f".join(comparable(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
