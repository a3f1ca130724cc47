"""Writing a queued row again, after the user fixed what made the target refuse it."""

from __future__ import annotations

from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import convert_rows
from moonshift.copy import keys
from moonshift.copy.plan import TablePlan
from moonshift.errors import TransientError, first_line


def retry_row(
    plan: TablePlan, source: Connector, target: Connector, row_key: str | None
) -> str | None:
    """Read the row from the source by its key and upsert it; None when it went in, else the
    target's (or source's) message."""
    key = keys.decode(row_key)
    if key is None or not plan.key:
        return "the row has no key to read it by; copy its table again"
    q, p = source.quote, source.placeholder
    where = " AND ".join(f"{q(k)} = {p}" for k in plan.key)
    sql = f"SELECT {', '.join(plan.reads)} FROM {plan.source_from} WHERE {where}"
    src = connect(source, "source")
    try:
        cursor = src.cursor()
        cursor.execute(sql, list(key))
        rows = cursor.fetchall()
    finally:
        src.close()
    if not rows:
        return "the row is no longer in the source"
    values: list[Any] = convert_rows(rows, plan.converters)
    conn = connect(target, "target")
    try:
        target.begin(conn)
        conn.cursor().executemany(
            target.upsert_sql(plan.target, plan.target_columns, plan.target_key), values
        )
        conn.commit()
        return None
    except Exception as exc:
        conn.rollback()
        if isinstance(target.translate(exc), TransientError):
            raise
        return first_line(exc)
    finally:
        conn.close()
