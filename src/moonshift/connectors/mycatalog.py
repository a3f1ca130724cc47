"""Reading a MariaDB or MySQL schema from information_schema: columns as COLUMN_TYPE spells
them (``int(10) unsigned``, ``enum('a','b')``), generated columns, AUTO_INCREMENT, indexes
with their prefixes, checks, and foreign keys with their actions."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from moonshift.connectors.base import Check, Column, ForeignKey, Index, Schema, Table

TABLES_SQL = """
SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME
"""
COLUMNS_SQL = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', COLUMN_DEFAULT, EXTRA,
       GENERATION_EXPRESSION, CHARACTER_SET_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""
CHECKS_SQL = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME
"""
INDEXES_SQL = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, COLUMN_NAME, SUB_PART, INDEX_TYPE
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
FOREIGN_KEYS_SQL = """
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
       k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
_JSON_CHECK = re.compile(r"^json_valid\(`((?:[^`]|``)+)`\)$", re.IGNORECASE)
_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT")


def read_schema(conn: Any) -> Schema:
    with conn.cursor() as cursor:

        def rows(sql: str) -> list[Any]:
            cursor.execute(sql)
            return list(cursor.fetchall())

        names = [r[0] for r in rows(TABLES_SQL)]
        columns, checks = _columns(rows(COLUMNS_SQL), rows(CHECKS_SQL))
        indexes = _indexes(rows(INDEXES_SQL))
        foreign = _foreign_keys(rows(FOREIGN_KEYS_SQL))
    conn.rollback()
    tables = {}
    for name in names:
        keys = indexes.get(name, {})
        primary = keys.pop("PRIMARY", None)
        secondary = tuple(keys.values())
        tables[name] = Table(
            name,
            tuple(columns[name]),
            tuple(str(c) for c in primary.columns) if primary else (),
            tuple(
                tuple(str(c) for c in i.columns)
                for i in secondary
                if i.unique and all(p is None for p in i.prefix)
            ),
            tuple(foreign.get(name, ())),
            None,
            secondary,
            tuple(checks[name]),
        )
    return Schema(tables)


def _columns(
    rows: list[Any], check_rows: list[Any]
) -> tuple[dict[str, list[Column]], dict[str, list[Check]]]:
    json_columns: set[tuple[str, str]] = set()
    checks: dict[str, list[Check]] = defaultdict(list)
    for table, name, clause in check_rows:
        match = _JSON_CHECK.match(clause.strip())
        if match:  # MariaDB's JSON is a LONGTEXT with this check
            json_columns.add((table, match.group(1).replace("``", "`")))
        else:
            checks[table].append(Check(clause, name))
    columns: dict[str, list[Column]] = defaultdict(list)
    for table, name, kind, nullable, default, extra, expression, charset in rows:
        extra = (extra or "").lower()
        generated = expression if "generated" in extra and expression else None
        columns[table].append(
            Column(
                name,
                "json" if (table, name) in json_columns else kind,
                bool(nullable),
                None if generated or default in (None, "NULL") else default,
                generated,
                "stored" in extra,
                "auto_increment" if "auto_increment" in extra else None,
                charset=charset,
            )
        )
    return columns, checks


def _indexes(rows: list[Any]) -> dict[str, dict[str, Index]]:
    parts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for table, name, unique, column, sub_part, kind in rows:
        parts[table][name].append((unique, column, sub_part, kind))
    found: dict[str, dict[str, Index]] = defaultdict(dict)
    for table, named in parts.items():
        for name, cols in named.items():
            unique, _c, _s, kind = cols[0]
            found[table][name] = Index(
                name,
                tuple(c[1] for c in cols),
                unique=bool(unique),
                constraint=bool(unique),
                method=None if kind == "BTREE" else kind.lower(),
                prefix=tuple(int(c[2]) if c[2] else None for c in cols),
            )
    return found


def _foreign_keys(rows: list[Any]) -> dict[str, list[ForeignKey]]:
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for table, name, column, parent, parent_column, on_delete, on_update in rows:
        grouped[(table, name)].append((column, parent, parent_column, on_delete, on_update))
    found: dict[str, list[ForeignKey]] = defaultdict(list)
    for (table, name), cols in grouped.items():
        _c, parent, _p, on_delete, on_update = cols[0]
        found[table].append(
            ForeignKey(
                tuple(c[0] for c in cols),
                parent,
                tuple(c[2] for c in cols),
                name,
                on_delete if on_delete in _ACTIONS else None,
                on_update if on_update in _ACTIONS else None,
            )
        )
    return found
