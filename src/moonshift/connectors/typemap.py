"""Column types between engines, as data: the tables in ``MAPPINGS`` say, for every ordered
pair of engines, which type a created target column gets; ``conversion`` says how its
values change, ``lossy`` whether some may not survive, and ``probe`` which values to count
before the copy when only the data can tell. docs/copy.md shows these tables
(``moonshift.copy.typedocs`` writes them from this data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from moonshift.connectors.types import RESOLVE, Family, SqlType, UnknownTypeError

F = Family

# -- the mapping tables: source family -> the target column's type, per pair of engines ------

Render = Callable[[SqlType], str]
# A target type PostgreSQL gets by a CREATE TYPE of its own: the planner names it.
CREATED_ENUM = "{enum}"


def _decimal(limit: int, keyword: str = "DECIMAL") -> Render:
    def render(t: SqlType) -> str:
        if t.family is F.INT:
            return f"{keyword}({t.digits},0)"
        if t.precision is None:
            return f"{keyword}({limit},{min(30, limit // 2)})"
        return f"{keyword}({min(t.precision, limit)},{min(t.scale or 0, limit)})"

    return render


def _text(bounded: str, unbounded: str, most: int) -> Render:
    return lambda t: bounded.format(n=t.length) if t.length and t.length <= most else unbounded


def _frac(template: str, most: int = 6) -> Render:
    return lambda t: template.format(p=min(t.precision if t.precision is not None else 6, most))


def _quoted_labels(t: SqlType) -> str:
    return ",".join("'" + label.replace("'", "''") + "'" for label in t.labels)


def _longest(t: SqlType) -> int:
    if t.family is F.SET:
        return max(1, sum(len(label) + 1 for label in t.labels) - 1)
    return max([len(label) for label in t.labels] or [1])


_INT_PG = {8: "SMALLINT", 16: "SMALLINT", 24: "INTEGER", 32: "INTEGER", 64: "BIGINT"}
_INT_PG_UNSIGNED = {8: "SMALLINT", 16: "INTEGER", 24: "INTEGER", 32: "BIGINT"}
_INT_MY = {8: "TINYINT", 16: "SMALLINT", 24: "MEDIUMINT", 32: "INT", 64: "BIGINT"}


def _pg_int(t: SqlType) -> str:
    assert t.bits is not None
    if t.unsigned:  # an unsigned value needs the next wider signed type
        return _INT_PG_UNSIGNED.get(t.bits) or "NUMERIC(20,0)"
    return _INT_PG[t.bits]


def _pg_bits(t: SqlType) -> str:
    if t.varying:
        return f"BIT VARYING({t.length})" if t.length else "BIT VARYING"
    return f"BIT({t.length or 1})"


def _my_bits(t: SqlType) -> str:
    if not t.varying and (t.length or 1) <= 64:
        return f"BIT({t.length or 1})"
    return f"VARCHAR({t.length})" if t.length and t.length <= 16_383 else "LONGTEXT"


TO_POSTGRES: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: _pg_int,
        F.DECIMAL: lambda t: (
            "NUMERIC" if t.precision is None else f"NUMERIC({t.precision},{t.scale or 0})"
        ),
        F.FLOAT: lambda t: "REAL" if t.bits == 32 else "DOUBLE PRECISION",
        F.TEXT: _text("VARCHAR({n})", "TEXT", 10_000),
        F.BYTES: lambda _t: "BYTEA",
        F.BOOL: lambda _t: "BOOLEAN",
        F.DATE: lambda _t: "DATE",
        F.TIME: _frac("TIME({p})"),
        F.TIMESTAMP: _frac("TIMESTAMP({p})"),
        F.TIMESTAMPTZ: _frac("TIMESTAMP({p}) WITH TIME ZONE"),
        F.JSON: lambda _t: "JSONB",
        F.UUID: lambda _t: "UUID",
        F.ENUM: lambda _t: CREATED_ENUM,
        F.SET: lambda _t: CREATED_ENUM + "[]",
        F.BITS: _pg_bits,
        F.SPATIAL: lambda _t: "BYTEA",
    }
)

TO_MYSQL: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: lambda t: _INT_MY[t.bits or 64] + (" UNSIGNED" if t.unsigned else ""),
        F.DECIMAL: _decimal(65),
        F.FLOAT: lambda t: "FLOAT" if t.bits == 32 else "DOUBLE",
        # VARCHAR past 16,383 characters does not fit a utf8mb4 row: such columns get LONGTEXT.
        F.TEXT: _text("VARCHAR({n})", "LONGTEXT", 16_383),
        F.BYTES: _text("VARBINARY({n})", "LONGBLOB", 65_532),
        F.BOOL: lambda _t: "TINYINT(1)",
        F.DATE: lambda _t: "DATE",
        F.TIME: _frac("TIME({p})"),
        F.TIMESTAMP: _frac("DATETIME({p})"),
        # MySQL's TIMESTAMP ends in 2038; an instant is kept as a UTC DATETIME instead.
        F.TIMESTAMPTZ: _frac("DATETIME({p})"),
        F.JSON: lambda _t: "JSON",
        F.UUID: lambda _t: "CHAR(36)",
        F.ENUM: lambda t: f"ENUM({_quoted_labels(t)})",
        F.SET: lambda t: f"SET({_quoted_labels(t)})",
        F.BITS: _my_bits,
        F.ARRAY: lambda _t: "JSON",
        F.SPATIAL: lambda t: t.raw.upper(),
    }
)

TO_SQLITE: Mapping[Family, Render] = MappingProxyType(
    {
        F.INT: lambda t: "NUMERIC(20,0)" if t.unsigned and t.bits == 64 else "INTEGER",
        # NUMERIC affinity: decimals compare and add up as numbers in SQLite.
        F.DECIMAL: lambda t: (
            "NUMERIC" if t.precision is None else f"NUMERIC({t.precision},{t.scale or 0})"
        ),
        F.FLOAT: lambda _t: "REAL",
        F.TEXT: _text("VARCHAR({n})", "TEXT", 1 << 30),
        F.BYTES: lambda _t: "BLOB",
        F.BOOL: lambda _t: "BOOLEAN",
        F.DATE: lambda _t: "DATE",
        F.TIME: lambda _t: "TIME",
        F.TIMESTAMP: lambda _t: "TIMESTAMP",
        F.TIMESTAMPTZ: lambda _t: "TIMESTAMPTZ",
        F.JSON: lambda _t: "JSON",
        F.UUID: lambda _t: "UUID",
        F.ENUM: lambda t: f"VARCHAR({_longest(t)})",
        F.SET: lambda t: f"VARCHAR({_longest(t)})",
        F.BITS: lambda t: f"VARCHAR({t.length})" if t.length else "TEXT",
        F.ARRAY: lambda _t: "JSON",
        F.SPATIAL: lambda _t: "BLOB",
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
    render = MAPPINGS[(source_engine, target_engine)].get(source.family)
    if render is None:
        raise UnknownTypeError(
            f'{source.family} "{source.raw}" has no counterpart in {target_engine}; {RESOLVE}'
        )
    return render(source)


# -- how values change ------------------------------------------------------------------------

_CONVERSIONS: Mapping[tuple[Family, Family], str] = MappingProxyType(
    {
        (F.ARRAY, F.JSON): "a JSON array, as to_jsonb writes it",
        (F.ARRAY, F.TEXT): "a JSON array, as to_jsonb writes it, as text",
        (F.SET, F.ARRAY): "an array of its members",
        (F.SET, F.TEXT): "its members, comma-separated",
        (F.ENUM, F.TEXT): "the label, checked against the labels",
        (F.ENUM, F.ENUM): "the label",
        (F.BITS, F.TEXT): "its bits as 0 and 1",
        (F.BITS, F.BITS): "the same bits",
        (F.SPATIAL, F.BYTES): "its WKB (ST_AsBinary)",
        (F.TIMESTAMPTZ, F.TIMESTAMP): "the instant in UTC, without zone",
        (F.JSON, F.TEXT): "JSON text",
        (F.UUID, F.TEXT): "its canonical text",
        (F.BOOL, F.INT): "1 or 0",
    }
)
_INTO_ENGINE: Mapping[tuple[Family, str], str] = MappingProxyType(
    {
        (F.DECIMAL, "sqlite"): "a number: INTEGER, else REAL read back at 15 digits",
        (F.INT, "sqlite"): "INTEGER",
        (F.TIMESTAMPTZ, "sqlite"): "ISO 8601 text in UTC",
        (F.TIMESTAMPTZ, "mysql"): "the instant in UTC (DATETIME)",
        (F.TIMESTAMP, "sqlite"): "ISO 8601 text",
        (F.DATE, "sqlite"): "ISO 8601 text",
        (F.TIME, "sqlite"): "ISO 8601 text",
        (F.BOOL, "sqlite"): "1 or 0",
        (F.BOOL, "mysql"): "1 or 0",
        (F.UUID, "sqlite"): "its canonical text",
        (F.UUID, "mysql"): "its canonical text",
        (F.JSON, "sqlite"): "JSON text",
        (F.ENUM, "postgresql"): "the label, in an enum type created for the column",
        (F.SET, "postgresql"): "an array of an enum type created for the column",
    }
)


def conversion(src: SqlType, dst: SqlType, source_engine: str, target_engine: str) -> str:
    """How a value changes on its way, in words (the plan and the docs show it)."""
    if source_engine == target_engine and src.raw == dst.raw:
        return "as is"
    said = _CONVERSIONS.get((src.family, dst.family)) or _INTO_ENGINE.get(
        (dst.family, target_engine)
    )
    parts = [p for p in (src.note, said) if p]
    if src.domain is not None and target_engine != "postgresql":
        parts.append(f"domain {src.domain.name}: its base type, with its checks")
    return "; ".join(parts) or "the same value"


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
    F.ENUM: {F.ENUM, F.TEXT},
    F.SET: {F.SET, F.ARRAY, F.TEXT},
    F.BITS: {F.BITS, F.TEXT},
    F.ARRAY: {F.ARRAY, F.JSON, F.TEXT},
    F.SPATIAL: {F.SPATIAL, F.BYTES},
}
# A value of these families, written as text into a typed column, is parsed by the target.
CASTABLE_FROM_TEXT = frozenset(
    {
        F.INT,
        F.DECIMAL,
        F.FLOAT,
        F.BOOL,
        F.DATE,
        F.TIME,
        F.TIMESTAMP,
        F.TIMESTAMPTZ,
        F.JSON,
        F.UUID,
        F.ENUM,
        F.BITS,
    }
)


def incompatible(src: SqlType, dst: SqlType, *, cast: bool = False) -> str | None:
    """Why no value of ``src`` can be written to ``dst``, or None. A ``cast`` also lets
    text go into any type the target parses from text."""
    if dst.family in _WIDER[src.family]:
        return None
    if cast and src.family is F.TEXT and dst.family in CASTABLE_FROM_TEXT:
        return None
    return f"{src.family} cannot be written to {dst.family} ({dst.raw or dst.family})"


def lossy(src: SqlType, dst: SqlType) -> str | None:
    """Why some values of ``src`` may not survive ``dst`` whole, or None."""
    s, d = src, dst
    if s.family in (F.ENUM, F.SET) and d.family in (F.ENUM, F.SET):
        missing = [label for label in s.labels if label not in d.labels]
        return (
            f"labels missing in the target: {', '.join(missing)}" if missing and d.labels else None
        )
    if s.family in (F.ENUM, F.SET) and d.family is F.TEXT:
        return _length_loss(_longest(s), d)
    if s.family is F.BITS and d.family in (F.BITS, F.TEXT):
        if d.family is F.BITS and s.varying and not d.varying:
            return "a varying bit string into a fixed one (padded or refused)"
        return _length_loss(s.length, d)
    if s.family in (F.ARRAY, F.SPATIAL, F.JSON):
        return _length_loss(None, d) if d.family is F.TEXT else None
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
    if s.family in (F.TEXT, F.BYTES):
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


# -- values that may not survive, counted before the copy ----------------------------------

SQLITE_EXACT_DIGITS = 15  # SQLite's REAL keeps 15 significant decimal digits
INT64_MAX = 9_223_372_036_854_775_807


@dataclass(frozen=True)
class Probe:
    """Rows to count on the source before the copy: the mapping is lossy only if some are."""

    condition: str  # SQL on the source; "{}" is the column
    what: str  # what those rows hold, for the message
    blank: bool = False  # allowed, such values are written as NULL
    on_read: bool = False  # "{}" is the value as read (money as numeric), not the column
    ranged: bool = False  # the condition is a range of the column: an index can answer it

    def sql(self, column: str) -> str:
        return self.condition.replace("{}", column)


_SIG_DIGITS = {
    "postgresql": "length(trim(both '0' from translate(abs({})::text, '.', '')))",
    "mysql": "LENGTH(TRIM(BOTH '0' FROM REPLACE(CAST(ABS({}) AS CHAR), '.', '')))",
}


def probe(src: SqlType, dst: SqlType, source_engine: str, target_engine: str) -> Probe | None:
    """The values of ``src`` that ``dst`` may not hold, when only the data can tell."""
    if source_engine == target_engine:
        return None
    if (
        target_engine == "sqlite"
        and dst.family is F.DECIMAL
        and src.family in (F.DECIMAL, F.INT)
        and source_engine in _SIG_DIGITS
        and not _fits_sqlite(src)
    ):
        digits = _SIG_DIGITS[source_engine]
        condition = (
            f"({{}} <> ROUND({{}}) OR ABS({{}}) > {INT64_MAX}) AND {digits} > {SQLITE_EXACT_DIGITS}"
        )
        return Probe(
            condition,
            f"numbers with more than {SQLITE_EXACT_DIGITS} significant digits, which SQLite "
            "keeps only as REAL",
            on_read=True,
        )
    if source_engine == "mysql" and src.family is F.TIME:
        return Probe(
            "{} < '00:00:00' OR {} >= '24:00:00'",
            "times outside one day (MySQL's TIME is also a duration)",
            ranged=True,
        )
    if source_engine == "mysql" and src.family is F.SPATIAL:
        return Probe("ST_SRID({}) <> 0", "geometries with an SRID, which WKB does not keep")
    if source_engine == "mysql" and src.family in (F.DATE, F.TIMESTAMP, F.TIMESTAMPTZ):
        # Zero dates sort before every year 0 date: the comparison, cheap, spares nearly
        # every row the text conversion (a probe reads the whole table, at every plan).
        return Probe(
            "{} < '0000-01-01' AND CAST({} AS CHAR) LIKE '0000-00-00%'",
            f"MySQL zero dates, which {target_engine} cannot store",
            blank=True,
            ranged=True,
        )
    return None


def _fits_sqlite(t: SqlType) -> bool:
    """Every value of ``t`` is an INTEGER or a REAL that SQLite keeps exactly."""
    if t.family is F.INT:
        return not (t.unsigned and t.bits == 64)
    if t.precision is None:
        return False
    return t.precision <= SQLITE_EXACT_DIGITS or (t.scale == 0 and t.precision <= 18)


# MySQL indexes no more than 3072 bytes of a key: its TEXT and BLOB need a length there.
_KEY_TYPES: Mapping[str, Mapping[str, tuple[str, int]]] = MappingProxyType(
    {"mysql": {"LONGTEXT": ("VARCHAR(768)", 768), "LONGBLOB": ("VARBINARY(3072)", 3072)}}
)
_LENGTH = {"postgresql": "char_length({})", "sqlite": "length({})", "mysql": "CHAR_LENGTH({})"}


def key_type(spelled: str, target_engine: str, source_engine: str) -> tuple[str, Probe | None]:
    """The type of a key column (primary or unique) where the engine limits keys: an
    unbounded text becomes a bounded one, and longer values are counted first."""
    found = _KEY_TYPES.get(target_engine, {}).get(spelled)
    if found is None:
        return spelled, None
    bounded, most = found
    length = _LENGTH[source_engine]
    return bounded, Probe(
        f"{length} > {most}", f"key values longer than {most}, which {target_engine} cannot index"
    )
