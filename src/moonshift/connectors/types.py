"""Column types between engines, as data.

Each engine's type names are read into a ``SqlType`` (a family with its size); the tables in
``MAPPINGS`` say, for every ordered pair of engines, which type a created target column gets.
``lossy`` tells whether a source column's values may not survive a target column whole; the
planner reports that before anything is written. An unknown type is an error, never TEXT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType


class Family(StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    FLOAT = "float"
    TEXT = "text"
    BYTES = "bytes"
    BOOL = "bool"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"  # a wall-clock date and time, no zone
    TIMESTAMPTZ = "timestamptz"  # an instant
    JSON = "json"
    UUID = "uuid"


F = Family


@dataclass(frozen=True)
class SqlType:
    family: Family
    bits: int | None = None  # INT: 8, 16, 24, 32, 64; FLOAT: 32 or 64
    unsigned: bool = False
    precision: int | None = None  # DECIMAL: digits (None: unbounded); TIMESTAMP: fraction
    scale: int | None = None
    length: int | None = None  # TEXT and BYTES: the most characters (None: unbounded)
    raw: str = ""  # the engine's own spelling

    @property
    def digits(self) -> int | None:
        """How many decimal digits an integer or decimal column holds."""
        if self.family is F.INT:
            assert self.bits is not None
            return len(str(2 ** (self.bits - (0 if self.unsigned else 1))))
        if self.family is F.BOOL:
            return 1
        return self.precision


class UnknownTypeError(ValueError):
    """A type this version of moonshift cannot map."""


# -- reading each engine's type names ---------------------------------------------------------

_ARGS = re.compile(r"\(\s*([0-9]+)\s*(?:,\s*([0-9]+)\s*)?\)")
_SUFFIXES = ("without time zone", "with time zone", "unsigned", "zerofill", "[]")


def _split(raw: str) -> tuple[str, int | None, int | None, str]:
    """(name, first argument, second argument, suffixes): ``timestamp(3) with time zone``
    is ("timestamp", 3, None, "with time zone")."""
    text = raw.strip().lower()
    match = _ARGS.search(text)
    a = b = None
    if match:
        a = int(match.group(1))
        b = int(match.group(2)) if match.group(2) else None
        text = text[: match.start()] + " " + text[match.end() :]
    rest = []
    for suffix in _SUFFIXES:
        if suffix in text:
            text = text.replace(suffix, " ")
            rest.append(suffix)
    name = " ".join(text.split())
    if not re.fullmatch(r"[a-z][a-z0-9_ ]*", name):
        raise UnknownTypeError(f'cannot read type "{raw}"')
    return name, a, b, " ".join(rest)


POSTGRES_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "smallint": SqlType(F.INT, bits=16),
        "integer": SqlType(F.INT, bits=32),
        "bigint": SqlType(F.INT, bits=64),
        "numeric": SqlType(F.DECIMAL),
        "real": SqlType(F.FLOAT, bits=32),
        "double precision": SqlType(F.FLOAT, bits=64),
        "text": SqlType(F.TEXT),
        "character varying": SqlType(F.TEXT),
        "character": SqlType(F.TEXT),
        "bytea": SqlType(F.BYTES),
        "boolean": SqlType(F.BOOL),
        "date": SqlType(F.DATE),
        "time": SqlType(F.TIME, precision=6),
        "timestamp": SqlType(F.TIMESTAMP, precision=6),
        "json": SqlType(F.JSON),
        "jsonb": SqlType(F.JSON),
        "uuid": SqlType(F.UUID),
        # the spellings of CREATE TABLE, which moonshift writes itself
        "varchar": SqlType(F.TEXT),
        "char": SqlType(F.TEXT),
        "int": SqlType(F.INT, bits=32),
        "decimal": SqlType(F.DECIMAL),
        "bool": SqlType(F.BOOL),
    }
)


def parse_postgres(raw: str) -> SqlType:
    """Reads ``format_type`` output: ``numeric(38,10)``, ``timestamp(3) with time zone``."""
    name, a, b, rest = _split(raw)
    if "[]" in rest:
        raise UnknownTypeError(f'arrays ("{raw}") have no counterpart outside PostgreSQL')
    if name in ("timestamp", "time"):
        zoned = "with time zone" in rest
        if name == "time" and zoned:
            raise UnknownTypeError(f'"{raw}" has no counterpart outside PostgreSQL')
        family = F.TIMESTAMPTZ if zoned else POSTGRES_NAMES[name].family
        return SqlType(family, precision=6 if a is None else a, raw=raw)
    base = POSTGRES_NAMES.get(name)
    if base is None:
        raise UnknownTypeError(f'PostgreSQL type "{raw}" has no mapping')
    if base.family is F.DECIMAL:
        return replace(base, precision=a, scale=b if b is not None else (0 if a else None), raw=raw)
    if base.family is F.TEXT and name != "text" and a is not None:
        return replace(base, length=a, raw=raw)
    return replace(base, raw=raw)


MYSQL_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "tinyint": SqlType(F.INT, bits=8),
        "smallint": SqlType(F.INT, bits=16),
        "mediumint": SqlType(F.INT, bits=24),
        "int": SqlType(F.INT, bits=32),
        "integer": SqlType(F.INT, bits=32),
        "bigint": SqlType(F.INT, bits=64),
        "decimal": SqlType(F.DECIMAL),
        "numeric": SqlType(F.DECIMAL),
        "float": SqlType(F.FLOAT, bits=32),
        "double": SqlType(F.FLOAT, bits=64),
        "char": SqlType(F.TEXT),
        "varchar": SqlType(F.TEXT),
        "tinytext": SqlType(F.TEXT, length=255),
        "text": SqlType(F.TEXT, length=65_535),
        "mediumtext": SqlType(F.TEXT, length=16_777_215),
        "longtext": SqlType(F.TEXT),
        "enum": SqlType(F.TEXT),
        "set": SqlType(F.TEXT),
        "binary": SqlType(F.BYTES),
        "varbinary": SqlType(F.BYTES),
        "tinyblob": SqlType(F.BYTES, length=255),
        "blob": SqlType(F.BYTES, length=65_535),
        "mediumblob": SqlType(F.BYTES, length=16_777_215),
        "longblob": SqlType(F.BYTES),
        "date": SqlType(F.DATE),
        "time": SqlType(F.TIME, precision=0),
        "datetime": SqlType(F.TIMESTAMP, precision=0),
        # TIMESTAMP holds an instant; moonshift's sessions read and write it in UTC.
        "timestamp": SqlType(F.TIMESTAMPTZ, precision=0),
        "json": SqlType(F.JSON),
        "uuid": SqlType(F.UUID),
    }
)


def parse_mysql(raw: str, *, json_checked: bool = False) -> SqlType:
    """Reads ``COLUMN_TYPE``: ``bigint(20) unsigned``, ``decimal(38,10)``, ``tinyint(1)``.
    ``json_checked``: MariaDB's JSON is a LONGTEXT with a ``json_valid`` check."""
    name, a, b, rest = _split(raw)
    if json_checked:
        return SqlType(F.JSON, raw=raw)
    if name == "tinyint" and a == 1 and "unsigned" not in rest:
        return SqlType(F.BOOL, raw=raw)
    base = MYSQL_NAMES.get(name)
    if base is None:
        raise UnknownTypeError(f'MySQL type "{raw}" has no mapping')
    if base.family is F.INT:
        return replace(base, unsigned="unsigned" in rest, raw=raw)
    if base.family is F.DECIMAL:
        return replace(base, precision=a or 10, scale=b or 0, raw=raw)
    if base.family in (F.TEXT, F.BYTES) and name in ("char", "varchar", "binary", "varbinary"):
        return replace(base, length=a or 1, raw=raw)
    if base.family in (F.TIME, F.TIMESTAMP, F.TIMESTAMPTZ):
        return replace(base, precision=a or 0, raw=raw)
    return replace(base, raw=raw)


# SQLite keeps the declared name; these are the names moonshift and common tools write.
SQLITE_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "integer": SqlType(F.INT, bits=64),
        "int": SqlType(F.INT, bits=64),
        "bigint": SqlType(F.INT, bits=64),
        "smallint": SqlType(F.INT, bits=64),
        "tinyint": SqlType(F.INT, bits=64),
        "decimal_text": SqlType(F.DECIMAL),
        "numeric": SqlType(F.DECIMAL),
        "decimal": SqlType(F.DECIMAL),
        "real": SqlType(F.FLOAT, bits=64),
        "float": SqlType(F.FLOAT, bits=64),
        "double": SqlType(F.FLOAT, bits=64),
        "double precision": SqlType(F.FLOAT, bits=64),
        "text": SqlType(F.TEXT),
        "varchar": SqlType(F.TEXT),
        "char": SqlType(F.TEXT),
        "clob": SqlType(F.TEXT),
        "blob": SqlType(F.BYTES),
        "boolean": SqlType(F.BOOL),
        "bool": SqlType(F.BOOL),
        "date": SqlType(F.DATE),
        "time": SqlType(F.TIME, precision=6),
        "datetime": SqlType(F.TIMESTAMP, precision=6),
        "timestamp": SqlType(F.TIMESTAMP, precision=6),
        "timestamptz": SqlType(F.TIMESTAMPTZ, precision=6),
        "json": SqlType(F.JSON),
        "uuid": SqlType(F.UUID),
    }
)


def parse_sqlite(raw: str) -> SqlType:
    name, a, b, _rest = _split(raw or "blob")
    base = SQLITE_NAMES.get(name)
    if base is None:
        raise UnknownTypeError(f'SQLite type "{raw}" has no mapping')
    if base.family is F.DECIMAL:
        # Only DECIMAL_TEXT keeps every digit: NUMERIC affinity stores a REAL.
        exact = name == "decimal_text"
        return replace(base, precision=a if exact else 15, scale=b or 0, raw=raw)
    if base.family is F.TEXT:
        return replace(base, length=a, raw=raw)
    return replace(base, raw=raw)


PARSERS: Mapping[str, Callable[[str], SqlType]] = MappingProxyType(
    {"postgresql": parse_postgres, "mysql": parse_mysql, "sqlite": parse_sqlite}
)


# -- the mapping tables: source family -> the target column's type, per pair of engines ------

Render = Callable[[SqlType], str]


def _decimal(limit: int, keyword: str = "DECIMAL") -> Render:
    def render(t: SqlType) -> str:
        if t.family is F.INT:
            return f"{keyword}({t.digits},0)"
        if t.precision is None:
            return f"{keyword}({limit},{min(30, limit // 2)})"
        return f"{keyword}({min(t.precision, limit)},{min(t.scale or 0, limit)})"

    return render


def _text(bounded: str, unbounded: str) -> Render:
    return lambda t: bounded.format(n=t.length) if t.length else unbounded


def _frac(template: str, most: int = 6) -> Render:
    return lambda t: template.format(p=min(t.precision if t.precision is not None else 6, most))


_INT_PG = {8: "SMALLINT", 16: "SMALLINT", 24: "INTEGER", 32: "INTEGER", 64: "BIGINT"}
_INT_PG_UNSIGNED = {8: "SMALLINT", 16: "INTEGER", 24: "INTEGER", 32: "BIGINT"}
_INT_MY = {8: "TINYINT", 16: "SMALLINT", 24: "MEDIUMINT", 32: "INT", 64: "BIGINT"}


def _pg_int(t: SqlType) -> str:
    assert t.bits is not None
    if t.unsigned:  # an unsigned value needs the next wider signed type
        return _INT_PG_UNSIGNED.get(t.bits) or "NUMERIC(20,0)"
    return _INT_PG[t.bits]


TO_POSTGRES: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: _pg_int,
        F.DECIMAL: lambda t: (
            "NUMERIC" if t.precision is None else f"NUMERIC({t.precision},{t.scale or 0})"
        ),
        F.FLOAT: lambda t: "REAL" if t.bits == 32 else "DOUBLE PRECISION",
        F.TEXT: lambda t: f"VARCHAR({t.length})" if t.length and t.length <= 10_000 else "TEXT",
        F.BYTES: lambda _t: "BYTEA",
        F.BOOL: lambda _t: "BOOLEAN",
        F.DATE: lambda _t: "DATE",
        F.TIME: _frac("TIME({p})"),
        F.TIMESTAMP: _frac("TIMESTAMP({p})"),
        F.TIMESTAMPTZ: _frac("TIMESTAMP({p}) WITH TIME ZONE"),
        F.JSON: lambda _t: "JSONB",
        F.UUID: lambda _t: "UUID",
    }
)

TO_MYSQL: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: lambda t: _INT_MY[t.bits or 64] + (" UNSIGNED" if t.unsigned else ""),
        F.DECIMAL: _decimal(65),
        F.FLOAT: lambda t: "FLOAT" if t.bits == 32 else "DOUBLE",
        # VARCHAR past 16,383 characters does not fit a utf8mb4 row: such columns get LONGTEXT.
        F.TEXT: lambda t: f"VARCHAR({t.length})" if t.length and t.length <= 16_383 else "LONGTEXT",
        F.BYTES: _text("VARBINARY({n})", "LONGBLOB"),
        F.BOOL: lambda _t: "TINYINT(1)",
        F.DATE: lambda _t: "DATE",
        F.TIME: _frac("TIME({p})"),
        F.TIMESTAMP: _frac("DATETIME({p})"),
        # MySQL's TIMESTAMP ends in 2038; an instant is kept as a UTC DATETIME instead.
        F.TIMESTAMPTZ: _frac("DATETIME({p})"),
        F.JSON: lambda _t: "JSON",
        F.UUID: lambda _t: "CHAR(36)",
    }
)

TO_SQLITE: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: lambda t: "DECIMAL_TEXT(20,0)" if t.unsigned and t.bits == 64 else "INTEGER",
        F.DECIMAL: lambda t: f"DECIMAL_TEXT({t.precision or 1000},{t.scale or 0})",
        F.FLOAT: lambda _t: "REAL",
        F.TEXT: _text("VARCHAR({n})", "TEXT"),
        F.BYTES: lambda _t: "BLOB",
        F.BOOL: lambda _t: "BOOLEAN",
        F.DATE: lambda _t: "DATE",
        F.TIME: lambda _t: "TIME",
        F.TIMESTAMP: lambda _t: "TIMESTAMP",
        F.TIMESTAMPTZ: lambda _t: "TIMESTAMPTZ",
        F.JSON: lambda _t: "JSON",
        F.UUID: lambda _t: "UUID",
    }
)

_TO: Mapping[str, Mapping[Family, Render]] = {
    "postgresql": TO_POSTGRES,
    "mysql": TO_MYSQL,
    "sqlite": TO_SQLITE,
}
# Where a pair of engines needs a rule of its own, it overrides the target's table here.
_PAIR_OVERRIDES: Mapping[tuple[str, str], Mapping[Family, Render]] = {
    # MySQL's DATETIME read from MySQL stays a DATETIME in PostgreSQL, without a zone.
    ("mysql", "postgresql"): {F.TIMESTAMPTZ: _frac("TIMESTAMP({p}) WITH TIME ZONE")},
    # PostgreSQL's unbounded NUMERIC is the widest DECIMAL MySQL has (reported as lossy).
    ("postgresql", "mysql"): {F.DECIMAL: _decimal(65)},
}
ENGINES = ("postgresql", "mysql", "sqlite")
MAPPINGS: Mapping[tuple[str, str], Mapping[Family, Render]] = MappingProxyType(
    {
        (src, dst): MappingProxyType({**_TO[dst], **_PAIR_OVERRIDES.get((src, dst), {})})
        for src in ENGINES
        for dst in ENGINES
        if src != dst
    }
)


def target_type(source: SqlType, source_engine: str, target_engine: str) -> str:
    """The type a created target column gets; the same engine keeps the source's own."""
    if source_engine == target_engine:
        return source.raw
    return MAPPINGS[(source_engine, target_engine)][source.family](source)


# -- which values may not survive -----------------------------------------------------------

_WIDER = {
    F.INT: {F.INT, F.DECIMAL, F.FLOAT, F.TEXT},
    F.DECIMAL: {F.DECIMAL, F.INT, F.FLOAT, F.TEXT},
    F.FLOAT: {F.FLOAT, F.DECIMAL, F.TEXT},
    F.TEXT: {F.TEXT},
    F.BYTES: {F.BYTES},
    F.BOOL: {F.BOOL, F.INT, F.TEXT},
    F.DATE: {F.DATE, F.TIMESTAMP, F.TEXT},
    F.TIME: {F.TIME, F.TEXT},
    F.TIMESTAMP: {F.TIMESTAMP, F.TIMESTAMPTZ, F.TEXT},
    F.TIMESTAMPTZ: {F.TIMESTAMPTZ, F.TIMESTAMP, F.TEXT},
    F.JSON: {F.JSON, F.TEXT},
    F.UUID: {F.UUID, F.TEXT},
}


def incompatible(src: SqlType, dst: SqlType) -> str | None:
    """Why no value of ``src`` can be written to ``dst``, or None."""
    if dst.family not in _WIDER[src.family]:
        return f"{src.family} cannot be written to {dst.family} ({dst.raw or dst.family})"
    return None


def lossy(src: SqlType, dst: SqlType) -> str | None:
    """Why some values of ``src`` may not survive ``dst`` whole, or None."""
    s, d = src, dst
    if d.family is F.TEXT and s.family is not F.TEXT:
        return _length_loss(36 if s.family is F.UUID else None, d)
    if s.family is F.INT and d.family is F.INT:
        assert s.bits is not None and d.bits is not None
        if s.unsigned and not d.unsigned and d.bits <= s.bits:
            return f"an unsigned {s.bits}-bit integer into a signed {d.bits}-bit one"
        if d.unsigned and not s.unsigned:
            return "a signed integer into an unsigned one (negative values)"
        if d.bits < s.bits:
            return f"narrowing: a {s.bits}-bit integer into a {d.bits}-bit one"
        return None
    if s.family in (F.INT, F.DECIMAL, F.BOOL) and d.family is F.DECIMAL:
        return _decimal_loss(s, d)
    if s.family is F.DECIMAL and d.family is F.INT:
        if s.scale:
            return f"decimal places: scale {s.scale} into an integer"
        return _digits_loss(s.digits, d.digits)
    if d.family is F.FLOAT:
        if s.family is F.FLOAT:
            return (
                "precision: a 64-bit float into a 32-bit one"
                if (s.bits or 64) > (d.bits or 64)
                else None
            )
        limit = 15 if d.bits == 64 else 6
        if s.digits is None or s.digits > limit:
            return f"precision: {s.digits or 'unbounded'} digits into a float (about {limit})"
        return None
    if s.family is F.FLOAT and d.family is F.DECIMAL:
        return None if d.precision is None else "precision: a float into a fixed decimal"
    if s.family is F.TEXT:
        return _length_loss(s.length, d)
    if s.family is F.BYTES:
        return _length_loss(s.length, d)
    timed = d.family in (F.TIME, F.TIMESTAMP, F.TIMESTAMPTZ) and s.family is d.family
    if timed and (d.precision or 0) < (s.precision or 0):
        return f"fractional seconds: {s.precision} digits into {d.precision}"
    return None


def _decimal_loss(s: SqlType, d: SqlType) -> str | None:
    if d.precision is None:
        return None
    if s.family is F.DECIMAL and s.precision is None:
        return f"narrowing: an unbounded NUMERIC into DECIMAL({d.precision},{d.scale or 0})"
    if (s.scale or 0) > (d.scale or 0):
        return f"decimal places: scale {s.scale} into scale {d.scale or 0}"
    whole = (s.digits or 0) - (s.scale or 0)
    if whole > d.precision - (d.scale or 0):
        return f"narrowing: {whole} whole digits into {d.precision - (d.scale or 0)}"
    return None


def _digits_loss(have: int | None, room: int | None) -> str | None:
    if room is not None and (have is None or have > room):
        return f"narrowing: {have or 'unbounded'} digits into {room}"
    return None


def _length_loss(have: int | None, d: SqlType) -> str | None:
    if d.length is not None and (have is None or have > d.length):
        return f"length: {have or 'unbounded'} into {d.length}"
    return None
