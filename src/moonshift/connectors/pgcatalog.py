"""Reading a PostgreSQL schema from its catalog: tables with their columns, keys, indexes,
checks, partitions and inheritance, the types the schema defines, and its sequences.

Only the connection's current schema is read. Partitions and inheritance are recorded on
the tables, so that the planner copies a partitioned table once, through its parent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

from moonshift.connectors.base import (
    Check,
    Column,
    ForeignKey,
    Index,
    Partition,
    Partitioning,
    Schema,
    SequenceDef,
    Table,
    UserType,
)

TABLES_SQL = """
SELECT c.oid, c.relname, c.relkind, c.relispartition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
"""
COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attgenerated, a.attidentity, a.attislocal,
       CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END,
       pg_get_serial_sequence(quote_ident(c.relname), a.attname)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
TYPES_SQL = """
SELECT t.oid, t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typbasetype,
       t.typnotnull, t.typdefault,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder),
       ARRAY(SELECT a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0
             AND NOT a.attisdropped ORDER BY a.attnum)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class r ON r.oid = t.typrelid
WHERE n.nspname = current_schema() AND t.typtype IN ('b', 'e', 'd', 'c', 'r', 'm')
  AND (t.typrelid = 0 OR r.relkind = 'c') AND t.typcategory <> 'A'
"""
DOMAIN_CHECKS_SQL = """
SELECT c.contypid, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema() AND c.contype = 'c'
ORDER BY c.conname
"""
CONSTRAINTS_SQL = """
SELECT c.conrelid, c.conname, c.contype,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       f.relname,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
       c.confdeltype, c.confupdtype, pg_get_constraintdef(c.oid), c.conislocal
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
LEFT JOIN pg_class f ON f.oid = c.confrelid
WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'f', 'c')
  AND c.conparentid = 0
ORDER BY c.conrelid, c.conname
"""
INDEXES_SQL = """
SELECT i.indrelid, x.relname, i.indisunique, am.amname,
       ARRAY(SELECT CASE WHEN k.n = 0 THEN NULL ELSE a.attname::text END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
             WHERE k.o <= i.indnkeyatts ORDER BY k.o),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) k),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(i.indnkeyatts + 1, i.indnatts) k),
       pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
JOIN pg_class r ON r.oid = i.indrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
JOIN pg_am am ON am.oid = x.relam
WHERE n.nspname = current_schema() AND i.indisvalid AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  AND NOT x.relispartition
ORDER BY i.indrelid, x.relname
"""
PARTITIONS_SQL = """
SELECT h.inhparent, c.relname, c.relispartition, pg_get_expr(c.relpartbound, c.oid), c.oid,
       p.relname
FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
JOIN pg_class p ON p.oid = h.inhparent
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY h.inhparent, c.relname
"""
PARTITION_KEYS_SQL = """
SELECT p.partrelid, pg_get_partkeydef(p.partrelid)
FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()
"""
SEQUENCES_SQL = """
SELECT sequencename, data_type::text, start_value, increment_by, min_value, max_value,
       cache_size, cycle, last_value
FROM pg_sequences WHERE schemaname = current_schema()
"""
ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}
IDENTITY = {"a": "always", "d": "by default"}
_NEXTVAL = re.compile(r"^nextval\('(?:[^']|'')+'::regclass\)$")


def read_schema(conn: Any) -> Schema:
    """The current schema of a psycopg connection (read in one transaction, rolled back)."""
    try:
        return _read(conn)
    finally:
        conn.rollback()


def _read(conn: Any) -> Schema:
    def rows(sql: str) -> list[Any]:
        return list(conn.execute(sql).fetchall())

    types = _types(rows(TYPES_SQL), rows(DOMAIN_CHECKS_SQL))
    relations = {oid: (name, kind, part) for oid, name, kind, part in rows(TABLES_SQL)}
    columns: dict[int, list[Column]] = defaultdict(list)
    local: dict[int, list[str]] = defaultdict(list)
    for rel, name, kind, nullable, default, gen, ident, is_local, type_oid, seq in rows(
        COLUMNS_SQL
    ):
        columns[rel].append(
            _column(name, kind, nullable, default, gen, ident, seq, types.get(type_oid))
        )
        if is_local:
            local[rel].append(name)
    constraints: dict[int, list[Any]] = defaultdict(list)
    for row in rows(CONSTRAINTS_SQL):
        constraints[row[0]].append(row)
    indexes: dict[int, list[Index]] = defaultdict(list)
    for rel, name, unique, method, cols, keys, include, where in rows(INDEXES_SQL):
        indexes[rel].append(_index(name, unique, method, cols, keys, include, where))
    keys = dict(rows(PARTITION_KEYS_SQL))
    children: dict[int, list[Any]] = defaultdict(list)
    inherits: dict[int, list[str]] = defaultdict(list)
    for parent, child, is_partition, bound, child_oid, parent_name in rows(PARTITIONS_SQL):
        if is_partition:
            children[parent].append((child, bound, child_oid))
        else:
            inherits[child_oid].append(parent_name)
    parent_of = {kid[2]: relations[p][0] for p, kids in children.items() for kid in kids}
    parents = {p for names in inherits.values() for p in names}
    tables = {}
    for oid, (name, kind, is_partition) in relations.items():
        tables[name] = _table(
            name,
            tuple(columns[oid]),
            constraints[oid],
            tuple(indexes[oid]),
            _partitioning(oid, keys, children) if kind == "p" else None,
            parent_of.get(oid) if is_partition else None,
            tuple(inherits[oid]),
            tuple(local[oid]) if inherits[oid] else None,
            name in parents,
        )
    sequences = {row[0]: _sequence(row) for row in rows(SEQUENCES_SQL)}
    return Schema(tables, {t.name: t for t in types.values()}, sequences)


def _column(
    name: str,
    kind: str,
    nullable: bool,
    default: str | None,
    generated: str,
    identity: str,
    sequence: str | None,
    user_type: UserType | None,
) -> Column:
    how = IDENTITY.get(identity)
    if how is None and default and _NEXTVAL.match(default):
        how = "serial"
    return Column(
        name,
        kind,
        bool(nullable),
        None if generated == "s" or how in ("always", "by default") else default,
        default if generated == "s" else None,
        True,
        how,
        _unqualified(sequence) if how else None,
        user_type,
    )


def _unqualified(name: str | None) -> str | None:
    if name is None:
        return None
    last = name.split(".")[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last


def _types(rows: list[Any], checks: list[Any]) -> dict[int, UserType]:
    domain_checks: dict[int, list[Check]] = defaultdict(list)
    for type_oid, name, definition in checks:
        domain_checks[type_oid].append(Check(_check_body(definition), name))
    kinds = {"e": "enum", "d": "domain", "c": "composite", "r": "range", "m": "range"}
    found: dict[int, UserType] = {}
    pending = []
    for oid, name, typtype, base, base_oid, not_null, default, labels, attributes in rows:
        kind = kinds.get(typtype, "other")
        record = UserType(
            name,
            kind,
            labels=tuple(labels),
            base=base if kind == "domain" else None,
            not_null=bool(not_null),
            default=default,
            checks=tuple(domain_checks[oid]),
            attributes=tuple(tuple(a.split(" ", 1)) for a in attributes),
        )
        found[oid] = record
        if kind == "domain":
            pending.append((oid, base_oid))
    for _ in range(len(pending)):  # domains over domains: resolve from the bottom up
        for oid, base_oid in pending:
            if base_oid in found:
                found[oid] = replace(found[oid], base_type=found[base_oid])
    return found


def _check_body(definition: str) -> str:
    """``CHECK ((qty > 0))`` -> ``(qty > 0)`` (NOT VALID and NO INHERIT dropped)."""
    body = definition.strip()
    body = re.sub(r"\s+NOT VALID$", "", body)
    body = re.sub(r"\s+NO INHERIT$", "", body)
    return body[len("CHECK") :].strip() if body.upper().startswith("CHECK") else body


def _index(
    name: str,
    unique: bool,
    method: str,
    columns: list[str | None],
    keys: list[str],
    include: list[str],
    where: str | None,
) -> Index:
    definition = "(" + ", ".join(keys) + ")"
    if include:
        definition += " INCLUDE (" + ", ".join(include) + ")"
    return Index(
        name,
        tuple(columns),
        unique=bool(unique),
        expressions=tuple(keys) if None in columns else (),
        where=where,
        method=None if method == "btree" else method,
        definition=definition,
    )


def _partitioning(oid: int, keys: dict[int, str], children: dict[int, list[Any]]) -> Partitioning:
    return Partitioning(
        keys[oid],
        tuple(
            Partition(name, bound, _partitioning(kid, keys, children) if kid in keys else None)
            for name, bound, kid in children.get(oid, [])
        ),
    )


def _table(
    name: str,
    columns: tuple[Column, ...],
    constraints: list[Any],
    indexes: tuple[Index, ...],
    partitioning: Partitioning | None,
    partition_of: str | None,
    inherits: tuple[str, ...],
    local_columns: tuple[str, ...] | None,
    only: bool,
) -> Table:
    primary: tuple[str, ...] = ()
    primary_name = None
    uniques: list[Index] = []
    foreign: list[ForeignKey] = []
    checks: list[Check] = []
    for (
        _rel,
        conname,
        kind,
        cols,
        ref,
        ref_cols,
        on_delete,
        on_update,
        definition,
        is_local,
    ) in constraints:
        if kind == "p":
            primary, primary_name = tuple(cols), conname
        elif kind == "u":
            uniques.append(Index(conname, tuple(cols), unique=True, constraint=True))
        elif kind == "f":
            foreign.append(
                ForeignKey(
                    tuple(cols),
                    ref,
                    tuple(ref_cols),
                    conname,
                    ACTIONS.get(on_delete),
                    ACTIONS.get(on_update),
                )
            )
        elif kind == "c" and (is_local or not inherits):
            checks.append(Check(_check_body(definition), conname))
    unique_keys = tuple(
        tuple(str(c) for c in i.columns)
        for i in (*uniques, *indexes)
        if i.unique and None not in i.columns and not i.where
    )
    return Table(
        name,
        columns,
        primary,
        unique_keys,
        tuple(foreign),
        primary_name,
        (*uniques, *indexes),
        tuple(checks),
        partitioning,
        partition_of,
        inherits,
        local_columns,
        only,
    )


def _sequence(row: Any) -> SequenceDef:
    name, data_type, start, increment, low, high, cache, cycle, last = row
    next_value = start if last is None else last + increment
    return SequenceDef(name, data_type, start, increment, low, high, cache, cycle, next_value)
