"""Column types as each engine names them, read into families.

Each engine's type names are read into a ``SqlType`` (a family with its size) by its own
rules: PostgreSQL's catalog spellings with its enums, domains and arrays, MySQL's
``COLUMN_TYPE``, and SQLite's declared types by SQLite's affinity rules. An unknown type is
an error that names what resolves it, never a silent TEXT. What each family becomes in
another engine is ``connectors.typemap``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from moonshift.connectors.base import UserType


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
    ENUM = "enum"  # one of its labels
    SET = "set"  # MySQL: some of its labels
    BITS = "bits"  # a string of bits
    ARRAY = "array"  # PostgreSQL: elements of one type
    SPATIAL = "spatial"  # MySQL: a geometry


F = Family


@dataclass(frozen=True)
class SqlType:
    family: Family
    bits: int | None = None  # INT: 8, 16, 24, 32, 64; FLOAT: 32 or 64
    unsigned: bool = False
    precision: int | None = None  # DECIMAL: digits (None: unbounded); TIMESTAMP: fraction
    scale: int | None = None
    length: int | None = None  # TEXT, BYTES, BITS: the most characters (None: unbounded)
    raw: str = ""  # the engine's own spelling
    labels: tuple[str, ...] = ()  # ENUM and SET
    element: SqlType | None = None  # ARRAY
    varying: bool = False  # BITS: of any length up to ``length``
    # Read on the source through this SQL ("{}" is the column) when the value goes to
    # another engine: PostgreSQL's text form of a range, WKB of a geometry.
    read: str | None = None
    note: str | None = None  # how reading changes the value, for the plan and the docs
    domain: UserType | None = None  # PostgreSQL: the domain this type is, over its base

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


RESOLVE = "give it a type with cast: TYPE (read as its text form), or exclude it"


# -- reading each engine's type names ---------------------------------------------------------

_ARGS = re.compile(r"\(\s*([0-9]+)\s*(?:,\s*([0-9]+)\s*)?\)")
_SUFFIXES = ("without time zone", "with time zone", "unsigned", "zerofill")
_LABELS = re.compile(r"'((?:[^'\\]|''|\\.)*)'")


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
    if not re.fullmatch(r'"?[a-z_][a-z0-9_ ]*"?', name):
        raise UnknownTypeError(f'cannot read type "{raw}"')
    return name, a, b, " ".join(rest)


def _labels(raw: str) -> tuple[str, ...]:
    """``enum('a','it''s')`` -> ("a", "it's")."""
    inner = raw[raw.index("(") + 1 : raw.rindex(")")]
    return tuple(m.replace("''", "'").replace("\\'", "'") for m in _LABELS.findall(inner))


_TEXT_FORM = "{}::text"
_PG_TEXT_FORMS: Mapping[str, int | None] = MappingProxyType(
    {  # PostgreSQL types that travel to other engines as their text form: name -> length
        "interval": None,
        "time with time zone": 21,
        "xml": None,
        "tsvector": None,
        "tsquery": None,
        "inet": 43,
        "cidr": 43,
        "macaddr": 17,
        "macaddr8": 23,
        "point": None,
        "line": None,
        "lseg": None,
        "box": None,
        "path": None,
        "polygon": None,
        "circle": None,
        "int4range": None,
        "int8range": None,
        "numrange": None,
        "tsrange": None,
        "tstzrange": None,
        "daterange": None,
        "int4multirange": None,
        "int8multirange": None,
        "nummultirange": None,
        "tsmultirange": None,
        "tstzmultirange": None,
        "datemultirange": None,
        "pg_lsn": None,
        "txid_snapshot": None,
        "pg_snapshot": None,
    }
)

POSTGRES_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "smallint": SqlType(F.INT, bits=16),
        "integer": SqlType(F.INT, bits=32),
        "bigint": SqlType(F.INT, bits=64),
        "oid": SqlType(F.INT, bits=32, unsigned=True),
        "numeric": SqlType(F.DECIMAL),
        "real": SqlType(F.FLOAT, bits=32),
        "double precision": SqlType(F.FLOAT, bits=64),
        "money": SqlType(F.DECIMAL, precision=19, scale=2, read="{}::numeric", note="as numeric"),
        "text": SqlType(F.TEXT),
        "character varying": SqlType(F.TEXT),
        "character": SqlType(F.TEXT),
        '"char"': SqlType(F.TEXT, length=1),
        "name": SqlType(F.TEXT, length=63),
        "bytea": SqlType(F.BYTES),
        "boolean": SqlType(F.BOOL),
        "date": SqlType(F.DATE),
        "time": SqlType(F.TIME, precision=6),
        "timestamp": SqlType(F.TIMESTAMP, precision=6),
        "json": SqlType(F.JSON, read=_TEXT_FORM),
        "jsonb": SqlType(F.JSON, read=_TEXT_FORM),
        "uuid": SqlType(F.UUID),
        "bit": SqlType(F.BITS, length=1, read=_TEXT_FORM),
        "bit varying": SqlType(F.BITS, varying=True, read=_TEXT_FORM),
        # the spellings of CREATE TABLE, which moonshift writes itself
        "varchar": SqlType(F.TEXT),
        "char": SqlType(F.TEXT),
        "int": SqlType(F.INT, bits=32),
        "decimal": SqlType(F.DECIMAL),
        "bool": SqlType(F.BOOL),
    }
)


def parse_postgres(raw: str, user_type: UserType | None = None) -> SqlType:
    """Reads ``format_type`` output: ``numeric(38,10)``, ``timestamp(3) with time zone``,
    ``text[]``; ``user_type`` is the catalog's record of an enum, domain or composite."""
    text = raw.strip()
    if text.endswith("]"):
        element = parse_postgres(text[: text.index("[")].strip(), user_type)
        return SqlType(F.ARRAY, element=element, raw=raw, read="to_jsonb({})::text")
    if user_type is not None:
        return _postgres_user_type(raw, user_type)
    name, a, b, rest = _split(raw)
    if name in ("timestamp", "time") and "with time zone" in rest:
        if name == "time":
            return SqlType(F.TEXT, length=21, raw=raw, read=_TEXT_FORM, note="text form")
        return SqlType(F.TIMESTAMPTZ, precision=6 if a is None else a, raw=raw)
    if name in _PG_TEXT_FORMS:
        return SqlType(
            F.TEXT, length=_PG_TEXT_FORMS[name], raw=raw, read=_TEXT_FORM, note="text form"
        )
    base = POSTGRES_NAMES.get(name)
    if base is None:
        raise UnknownTypeError(f'PostgreSQL type "{raw}" has no mapping; {RESOLVE}')
    if base.family in (F.TIME, F.TIMESTAMP):
        return replace(base, precision=6 if a is None else a, raw=raw)
    if base.family is F.DECIMAL and base.read is None:
        return replace(base, precision=a, scale=b if b is not None else (0 if a else None), raw=raw)
    if base.family is F.TEXT and name not in ("text", '"char"', "name"):
        return replace(
            base,
            length=a if a is not None else (1 if "char" in name and "var" not in name else None),
            raw=raw,
        )
    if base.family is F.BITS:
        return replace(base, length=a if a is not None else base.length, raw=raw)
    return replace(base, raw=raw)


def _postgres_user_type(raw: str, user_type: UserType) -> SqlType:
    if user_type.kind == "enum":
        return SqlType(F.ENUM, labels=user_type.labels, raw=raw)
    if user_type.kind == "domain":
        assert user_type.base is not None
        base = parse_postgres(user_type.base, user_type.base_type)
        return replace(base, raw=raw, domain=user_type)
    if user_type.kind == "composite":
        return SqlType(
            F.JSON, raw=raw, read="to_jsonb({})::text", note="a JSON object of its fields"
        )
    if user_type.kind == "range":
        return SqlType(F.TEXT, raw=raw, read=_TEXT_FORM, note="text form")
    raise UnknownTypeError(f'PostgreSQL type "{raw}" has no mapping; {RESOLVE}')


MYSQL_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "tinyint": SqlType(F.INT, bits=8),
        "smallint": SqlType(F.INT, bits=16),
        "mediumint": SqlType(F.INT, bits=24),
        "int": SqlType(F.INT, bits=32),
        "integer": SqlType(F.INT, bits=32),
        "bigint": SqlType(F.INT, bits=64),
        "year": SqlType(F.INT, bits=16, note="the year as a number"),
        "decimal": SqlType(F.DECIMAL),
        "numeric": SqlType(F.DECIMAL),
        "float": SqlType(F.FLOAT, bits=32),
        "double": SqlType(F.FLOAT, bits=64),
        "double precision": SqlType(F.FLOAT, bits=64),
        "real": SqlType(F.FLOAT, bits=64),
        "bit": SqlType(F.BITS),
        "char": SqlType(F.TEXT),
        "varchar": SqlType(F.TEXT),
        "tinytext": SqlType(F.TEXT, length=255),
        "text": SqlType(F.TEXT, length=65_535),
        "mediumtext": SqlType(F.TEXT, length=16_777_215),
        "longtext": SqlType(F.TEXT),
        "inet4": SqlType(F.TEXT, length=15, note="text form"),
        "inet6": SqlType(F.TEXT, length=39, note="text form"),
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
_SPATIAL = (
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
)


def parse_mysql(raw: str) -> SqlType:
    """Reads ``COLUMN_TYPE``: ``bigint(20) unsigned``, ``decimal(38,10)``, ``tinyint(1)``,
    ``enum('a','b')``. MariaDB's JSON is a LONGTEXT with a ``json_valid`` check; the
    connector reports such columns as ``json``."""
    lowered = raw.strip().lower()
    for word, family in (("enum", F.ENUM), ("set", F.SET)):
        if lowered.startswith(word + "("):
            return SqlType(family, labels=_labels(raw.strip()), raw=raw)
    name, a, b, rest = _split(raw)
    if name == "tinyint" and a == 1 and "unsigned" not in rest:
        return SqlType(F.BOOL, raw=raw)
    if name in _SPATIAL:
        return SqlType(F.SPATIAL, raw=raw, read="ST_AsBinary({})")
    base = MYSQL_NAMES.get(name)
    if base is None:
        raise UnknownTypeError(f'MySQL type "{raw}" has no mapping; {RESOLVE}')
    if base.family is F.INT:
        return replace(base, unsigned="unsigned" in rest and name != "year", raw=raw)
    if base.family is F.DECIMAL:
        return replace(base, precision=a or 10, scale=b or 0, raw=raw)
    if name in ("char", "varchar", "binary", "varbinary", "bit"):
        return replace(base, length=a or 1, raw=raw)
    if base.family in (F.TIME, F.TIMESTAMP, F.TIMESTAMPTZ):
        return replace(base, precision=a or 0, raw=raw)
    return replace(base, raw=raw)


# SQLite keeps the declared name. Names that carry more than their affinity (a date, a
# boolean, JSON) are read first; any other declaration maps by SQLite's own affinity rules.
SQLITE_NAMES: Mapping[str, SqlType] = MappingProxyType(
    {
        "boolean": SqlType(F.BOOL),
        "bool": SqlType(F.BOOL),
        "date": SqlType(F.DATE),
        "time": SqlType(F.TIME, precision=6),
        "datetime": SqlType(F.TIMESTAMP, precision=6),
        "timestamp": SqlType(F.TIMESTAMP, precision=6),
        "timestamptz": SqlType(F.TIMESTAMPTZ, precision=6),
        "json": SqlType(F.JSON),
        "uuid": SqlType(F.UUID),
        "numeric": SqlType(F.DECIMAL),
        "decimal": SqlType(F.DECIMAL),
        # exact digits as TEXT, as moonshift wrote decimals before NUMERIC affinity
        "decimal_text": SqlType(F.DECIMAL),
    }
)


def sqlite_affinity(declared: str) -> str:
    """SQLite's rules (datatype3.html, 3.1), in their order."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "REAL"
    return "NUMERIC"


def parse_sqlite(raw: str) -> SqlType:
    """Any declaration maps: a known name, else its affinity. Length and precision are
    kept where declared (SQLite does not enforce them)."""
    match = _ARGS.search(raw)
    a = int(match.group(1)) if match else None
    b = int(match.group(2)) if match and match.group(2) else None
    name = " ".join(_ARGS.sub(" ", raw.strip().lower()).split())
    known = SQLITE_NAMES.get(name)
    if known is not None:
        if known.family is F.DECIMAL:
            return replace(
                known, precision=a, scale=b if b is not None else (0 if a else None), raw=raw
            )
        return replace(known, raw=raw)
    affinity = sqlite_affinity(raw)
    note = f"{affinity} affinity"
    if affinity == "INTEGER":
        return SqlType(F.INT, bits=64, raw=raw, note=note)
    if affinity == "TEXT":
        return SqlType(F.TEXT, length=a, raw=raw, note=note)
    if affinity == "BLOB":
        return SqlType(F.BYTES, raw=raw, note=note)
    if affinity == "REAL":
        return SqlType(F.FLOAT, bits=64, raw=raw, note=note)
    return SqlType(
        F.DECIMAL, precision=a, scale=b if b is not None else (0 if a else None), raw=raw, note=note
    )


PARSERS: Mapping[str, Callable[[str], SqlType]] = MappingProxyType(
    {"postgresql": parse_postgres, "mysql": parse_mysql, "sqlite": parse_sqlite}
)
