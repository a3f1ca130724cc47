"""Reading a SQLite database's schema: its pragmas, and the CREATE statements it keeps for
what the pragmas do not tell (generated columns' expressions, CHECK constraints, index keys)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from moonshift.connectors.base import Check, Column, ForeignKey, Index, Schema, Table
from moonshift.connectors.sqltext import Token, closing, join, split, tokenize

_COLUMN_STOP = (
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
)
_TABLE_CONSTRAINT = ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN")
ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT")


def read_schema(conn: Any) -> Schema:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    index_sql = dict(
        conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    )
    tables = {name: _table(conn, name, sql or "", index_sql) for name, sql in rows}
    primary = {name: t.primary_key for name, t in tables.items()}
    for name, table in tables.items():  # "REFERENCES parent" without columns: its key
        fks = tuple(
            fk
            if all(fk.referred_columns)
            else ForeignKey(
                fk.columns,
                fk.referred_table,
                primary.get(fk.referred_table, ()),
                fk.name,
                fk.on_delete,
                fk.on_update,
            )
            for fk in table.foreign_keys
        )
        tables[name] = replace(table, foreign_keys=fks)
    return Schema(tables)


def _table(conn: Any, name: str, sql: str, index_sql: dict[str, str | None]) -> Table:
    q = _quoted(name)
    info = conn.execute(f"PRAGMA table_xinfo({q})").fetchall()
    parsed = _parse_create(sql)
    pk_columns = sorted((pk, col) for _cid, col, _t, _nn, _d, pk, _h in info if pk)
    primary = tuple(col for _pk, col in pk_columns)
    rowid = (
        len(primary) == 1
        and "WITHOUT ROWID" not in sql.upper()
        and next(t for _c, n, t, *_ in info if n == primary[0]).upper() == "INTEGER"
    )
    columns = []
    for _cid, col, kind, notnull, default, pk, hidden in info:
        if hidden == 1:
            continue  # a virtual table's hidden column
        generated = parsed.generated.get(col)
        columns.append(
            Column(
                col,
                kind or "",
                not notnull and not pk,
                default,
                generated[0] if generated else None,
                generated[1] if generated else True,
                "rowid" if rowid and col == primary[0] else None,
            )
        )
    indexes = _indexes(conn, name, index_sql)
    uniques = tuple(
        tuple(str(c) for c in i.columns) for i in indexes if i.unique and None not in i.columns
    )
    return Table(
        name,
        tuple(columns),
        primary,
        uniques,
        _foreign_keys(conn, q),
        None,
        indexes,
        parsed.checks,
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _foreign_keys(conn: Any, q: str) -> tuple[ForeignKey, ...]:
    grouped: dict[int, list[Any]] = {}
    for fk_id, _seq, parent, src, dst, on_update, on_delete, _match in conn.execute(
        f"PRAGMA foreign_key_list({q})"
    ).fetchall():
        grouped.setdefault(fk_id, []).append((parent, src, dst, on_update, on_delete))
    found = []
    for parts in grouped.values():
        parent, _s, _d, on_update, on_delete = parts[0]
        found.append(
            ForeignKey(
                tuple(p[1] for p in parts),
                parent,
                tuple(p[2] for p in parts),
                None,
                on_delete if on_delete in ACTIONS else None,
                on_update if on_update in ACTIONS else None,
            )
        )
    return tuple(reversed(found))  # SQLite lists them last first


def _indexes(conn: Any, table: str, index_sql: dict[str, str | None]) -> tuple[Index, ...]:
    q = _quoted(table)
    found = []
    for _seq, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({q})"):
        if origin == "pk":
            continue
        parts = [
            (cid, col)
            for _n, cid, col, _desc, _coll, key in conn.execute(
                f"PRAGMA index_xinfo({_quoted(name)})"
            )
            if key
        ]
        columns = tuple(None if cid == -2 else col for cid, col in parts)
        keys, where = _index_parts(index_sql.get(name))
        if name.startswith("sqlite_autoindex_"):  # an unnamed UNIQUE: named as PostgreSQL would
            name = "_".join([table, *(str(c) for c in columns), "key"])
        found.append(
            Index(
                name,
                columns,
                unique=bool(unique),
                constraint=origin == "u",
                expressions=tuple(keys) if None in columns else (),
                where=where if partial else None,
                definition="(" + ", ".join(keys) + ")" if keys else None,
            )
        )
    return tuple(sorted(found, key=lambda i: i.name))


def _index_parts(sql: str | None) -> tuple[list[str], str | None]:
    """CREATE INDEX ... ON t (a, lower(b)) WHERE c > 0 -> (["a", "lower(b)"], "c > 0")."""
    if not sql:
        return [], None
    tokens = tokenize(sql, brackets=True)
    on = next(i for i, t in enumerate(tokens) if t.is_word("ON"))
    start = next(i for i in range(on, len(tokens)) if tokens[i].text == "(")
    end = closing(tokens, start)
    keys = [join(part) for part in split(tokens[start + 1 : end])]
    rest = tokens[end + 1 :]
    where = join(rest[1:]) if rest and rest[0].is_word("WHERE") else None
    return keys, where


class _Parsed:
    def __init__(self) -> None:
        self.generated: dict[str, tuple[str, bool]] = {}
        self.checks: tuple[Check, ...] = ()


def _parse_create(sql: str) -> _Parsed:
    """Generated columns' expressions and every CHECK, from SQLite's CREATE TABLE text."""
    parsed = _Parsed()
    if not sql:
        return parsed
    tokens = tokenize(sql, brackets=True)
    start = next(i for i, t in enumerate(tokens) if t.text == "(")
    checks: list[Check] = []
    for part in split(tokens[start + 1 : closing(tokens, start)]):
        if part[0].is_word(*_TABLE_CONSTRAINT):
            checks += _checks(part)
            continue
        column = part[0].name
        rest = part[1:]
        first = next((i for i, t in enumerate(rest) if t.is_word(*_COLUMN_STOP)), len(rest))
        checks += _checks(rest[first:])
        generated = _generated(rest[first:])
        if generated:
            parsed.generated[column] = generated
    parsed.checks = tuple(checks)
    return parsed


def _checks(tokens: Sequence[Token]) -> list[Check]:
    found, name = [], None
    for index, token in enumerate(tokens):
        if token.is_word("CONSTRAINT") and index + 1 < len(tokens):
            name = tokens[index + 1].name
        elif token.is_word("CHECK") and index + 1 < len(tokens) and tokens[index + 1].text == "(":
            end = closing(tokens, index + 1)
            found.append(Check(join(tokens[index + 1 : end + 1]), name))
            name = None
    return found


def _generated(tokens: Sequence[Token]) -> tuple[str, bool] | None:
    for index, token in enumerate(tokens):
        if token.is_word("AS") and index + 1 < len(tokens) and tokens[index + 1].text == "(":
            end = closing(tokens, index + 1)
            after = tokens[end + 1] if end + 1 < len(tokens) else None
            stored = after is not None and after.is_word("STORED")
            return join(tokens[index + 2 : end]), stored
    return None
