"""docs/copy.md's type tables, written from the type data itself (``typemap``), so the
docs say what the code does. ``python -m moonshift.connectors.typedocs docs/copy.md``
rewrites them in place; a test checks they are current."""

from __future__ import annotations

import sys
from pathlib import Path

from moonshift.connectors.base import Check, UserType
from moonshift.connectors.typemap import (
    CREATED_ENUM,
    ENGINES,
    conversion,
    lossy,
    probe,
    target_type,
)
from moonshift.connectors.types import (
    PARSERS,
    Family,
    SqlType,
    UnknownTypeError,
    parse_postgres,
)

BEGIN = "<!-- type tables: written by moonshift.connectors.typedocs; do not edit by hand -->"
END = "<!-- end of the type tables -->"
NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
_MOOD = UserType("mood", "enum", labels=("sad", "ok", "happy"))
_POSINT = UserType(
    "posint", "domain", base="integer", checks=(Check("(VALUE > 0)", "posint_check"),)
)
_PAIR = UserType("pair", "composite", attributes=(("a", "integer"), ("b", "text")))
_POSTGRES = (
    "smallint", "integer", "bigint", "oid", "numeric(10,2)", "numeric", "real",
    "double precision", "money", "character varying(100)", "character(3)", "text", '"char"',
    "name", "bytea", "boolean", "date", "time(6)", "time with time zone", "timestamp(6)",
    "timestamp(6) with time zone", "interval", "json", "jsonb", "uuid", "xml", "inet", "cidr",
    "macaddr", "tsvector", "tsquery", "int4range", "numrange", "tstzrange", "datemultirange",
    "point", "polygon", "bit(5)", "bit varying(8)", "pg_lsn", "text[]", "integer[][]",
)  # fmt: skip
_MYSQL = (
    "tinyint(4)", "tinyint(3) unsigned", "tinyint(1)", "smallint(6)", "smallint(5) unsigned",
    "mediumint(9)", "int(11)", "int(10) unsigned", "bigint(20)", "bigint(20) unsigned",
    "decimal(10,2)", "float", "double", "bit(1)", "bit(5)", "char(3)", "varchar(100)",
    "tinytext", "text", "mediumtext", "longtext", "enum('a','b')", "set('a','b')",
    "binary(16)", "varbinary(100)", "blob", "longblob", "date", "time(6)", "datetime(6)",
    "timestamp(6)", "year(4)", "json", "uuid", "inet4", "inet6", "geometry", "point",
)  # fmt: skip
_SQLITE = (
    "INTEGER", "INT", "BIGINT UNSIGNED", "NVARCHAR(160)", "VARCHAR(10)", "CHARACTER(20)",
    "TEXT", "CLOB", "BLOB", "", "REAL", "DOUBLE", "FLOAT", "NUMERIC", "NUMERIC(10,2)",
    "DECIMAL(12,4)", "DECIMAL_TEXT(38,10)", "MONEY", "BOOLEAN", "DATE", "TIME", "DATETIME",
    "TIMESTAMP", "TIMESTAMPTZ", "JSON", "UUID",
)  # fmt: skip
SAMPLES: dict[str, list[tuple[str, UserType | None]]] = {
    "postgresql": [
        *((t, None) for t in _POSTGRES),
        ("mood", _MOOD),
        ("mood[]", _MOOD),
        ("posint", _POSINT),
        ("pair", _PAIR),
    ],
    "mysql": [(t, None) for t in _MYSQL],
    "sqlite": [(t, None) for t in _SQLITE],
}


def _parse(engine: str, spelled: str, user_type: UserType | None) -> SqlType:
    if engine == "postgresql":
        return parse_postgres(spelled, user_type)
    return PARSERS[engine](spelled)


def _row(src_engine: str, dst_engine: str, spelled: str, user_type: UserType | None) -> str:
    src = _parse(src_engine, spelled, user_type)
    shown = f"`{spelled}`" if spelled else "(none)"
    if user_type is not None:
        shown = f"{user_type.kind} `{spelled}`"
    try:
        target = target_type(src, src_engine, dst_engine)
    except UnknownTypeError:
        return f"| {shown} | refused | give it a type with `cast`, or `exclude` it | |"
    if CREATED_ENUM in target:  # an enum type made for the column
        target = target.replace(CREATED_ENUM, "<table>_<column>")
        enum = SqlType(Family.ENUM, labels=src.labels, raw="<table>_<column>")
        dst = enum if src.family is Family.ENUM else SqlType(Family.ARRAY, element=enum)
    else:
        dst = _parse(dst_engine, target, None)
    lost = lossy(src, dst)
    found = probe(src, dst, src_engine, dst_engine)
    said = lost or (f"only if rows hold {found.what} (counted before the copy)" if found else "")
    return f"| {shown} | `{target}` | {conversion(src, dst, src_engine, dst_engine)} | {said} |"


def tables() -> str:
    parts = [BEGIN, ""]
    for src in ENGINES:
        for dst in ENGINES:
            if src == dst:
                continue
            parts += [
                f"#### {NAMES[src]} to {NAMES[dst]}",
                "",
                "| source type | target type | values | lossy |",
                "| --- | --- | --- | --- |",
                *(_row(src, dst, spelled, user) for spelled, user in SAMPLES[src]),
                "",
            ]
    parts.append(END)
    return "\n".join(parts)


def rewrite(path: Path) -> bool:
    """Put the current tables between the markers; True when the file changed."""
    text = path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + tables() + text[end:]
    if updated != text:
        path.write_text(updated)
    return updated != text


def current(path: Path) -> bool:
    text = path.read_text()
    return text[text.index(BEGIN) : text.index(END) + len(END)] == tables()


if __name__ == "__main__":  # pragma: no cover
    changed = rewrite(Path(sys.argv[1]))
    print(f"{sys.argv[1]}: {'rewritten' if changed else 'current'}")
