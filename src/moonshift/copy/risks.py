"""What a copy's risk assessment needs to know from the databases, checked for real: rows
already in the target, triggers there, indexes on the cursor, cycles of foreign keys, the
privileges to read, create and write (tried, then undone), and long source transactions.

Returns plain facts for ``domain.risk.assess``; nothing here decides what is risky.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from moonshift.connectors.base import Connector, Schema, Table, connect
from moonshift.copy.order import load_order
from moonshift.copy.plan import CopyPlan
from moonshift.domain.copy_spec import CopySpec, Mode, TargetPrep
from moonshift.errors import first_line


def gather(
    spec: CopySpec,
    plan: CopyPlan,
    source_schema: Schema,
    source: Connector,
    target: Connector,
    long_transaction: timedelta,
) -> dict[str, Any]:
    refused = {(i.table, i.column) for i in plan.errors}
    missing: list[list[str]] = []
    facts: dict[str, Any] = {
        "refused": [str(i) for i in plan.errors],
        "cycles": _cycles(plan, source_schema),
        "missing_privileges": missing,
    }
    src = connect(source, "source")
    try:
        named = [t.source for t in plan.tables] + [i.table for i in plan.errors]
        readable = sorted({n for n in named if n in source_schema.tables})
        missing += [["source", w] for w in _unreadable(source, src, source_schema, readable)]
        facts["long_transactions"] = source.long_transactions(src, long_transaction.total_seconds())
    finally:
        src.close()
    dst = connect(target, "target")
    try:
        missing += [["target", w] for w in _unwritable(target, dst, plan)]
        triggers = target.triggers(dst)
        facts["tables"] = [
            {
                "source": t.source,
                "target": t.target,
                "key": list(t.key),
                "lossy": [
                    [c.target, c.lossy]
                    for c in t.columns
                    if c.lossy and (t.source, c.source) not in refused
                ],
                "target_rows": _rows(target, dst, t.target)
                if t.exists and not t.create and _keeps_rows(spec)
                else None,
                "cursor": t.cursor,
                "cursor_indexed": _indexed(source_schema.tables[t.source], t.cursor)
                if t.cursor
                else None,
                "triggers": triggers.get(t.target, []) if t.exists and not t.create else [],
            }
            for t in plan.tables
        ]
    finally:
        dst.close()
    return facts


def _keeps_rows(spec: CopySpec) -> bool:
    return spec.mode is Mode.FULL and spec.target_prep is TargetPrep.NONE


def _cycles(plan: CopyPlan, schema: Schema) -> list[list[str]]:
    copied = {t.source for t in plan.tables}
    order = load_order(schema.tables[n] for n in copied)
    return sorted([child, parent] for child, parent in order.deferred if parent in copied)


def _indexed(table: Table, column: str) -> bool:
    leading = [i.columns[0] for i in table.indexes if i.columns]
    keys = [k[0] for k in (table.primary_key, *table.unique_keys) if k]
    return column in leading or column in keys


def _rows(connector: Connector, conn: Any, table: str) -> int:
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT COUNT(*) FROM {connector.quote(table)}")
        return int(cursor.fetchone()[0])
    finally:
        conn.rollback()


def _unreadable(connector: Connector, conn: Any, schema: Schema, tables: list[str]) -> list[str]:
    found = []
    for name in tables:
        sql = f"SELECT * FROM {connector.from_sql(name, schema.tables[name].only)} WHERE 1 = 0"
        error = _tried(connector, conn, sql)
        if error:
            found.append(f"cannot read {name}: {error}")
    return found


def _unwritable(connector: Connector, conn: Any, plan: CopyPlan) -> list[str]:
    """INSERT ... SELECT of no row into every existing target table, and a probe table
    created, written and dropped: what the copy does, tried and undone."""
    found = []
    for t in plan.tables:
        if t.exists and not t.create:
            table = connector.quote(t.target)
            error = _tried(
                connector, conn, f"INSERT INTO {table} SELECT * FROM {table} WHERE 1 = 0"
            )
            if error:
                found.append(f"cannot write {t.target}: {error}")
    if any(t.create for t in plan.tables):
        probe = connector.quote(f"moonshift_probe_{uuid.uuid4().hex[:8]}")
        error = _tried(connector, conn, f"CREATE TABLE {probe} (id INTEGER)", keep=True)
        if error:
            found.append(f"cannot create tables: {error}")
        else:
            error = _tried(connector, conn, f"INSERT INTO {probe} VALUES (1)")
            if error:
                found.append(f"cannot write a table it creates: {error}")
            _tried(connector, conn, f"DROP TABLE {probe}", keep=True)
    return found


def _tried(connector: Connector, conn: Any, sql: str, *, keep: bool = False) -> str | None:
    """Run ``sql``; its error's first line, or None. Undone unless ``keep`` (DDL that some
    engines commit by themselves is dropped explicitly instead)."""
    cursor = conn.cursor()
    try:
        if not sql.startswith("SELECT"):
            connector.begin(conn)
        cursor.execute(sql)
    except Exception as exc:
        conn.rollback()
        return first_line(exc)
    if keep:
        conn.commit()
    else:
        conn.rollback()
    return None
