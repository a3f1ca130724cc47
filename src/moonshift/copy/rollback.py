"""Undoing a copy in the target: empty the tables it wrote (children first), or put back
the copies of them saved before the run (``snapshot: true``)."""

from __future__ import annotations

from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.copy.bookkeeping import Bookkeeping
from moonshift.copy.plan import CopyPlan

SNAPSHOT_PREFIX = "_ms_snap_"


def snapshot_name(migration_id: str, table: str) -> str:
    return f"{SNAPSHOT_PREFIX}{migration_id}_{table}"[:63]


def count(conn: Any, target: Connector, table: str) -> int:
    cursor = conn.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM {target.quote(table)}")
    (found,) = cursor.fetchone()
    return int(found)


def take_snapshot(conn: Any, target: Connector, plan: CopyPlan, migration_id: str) -> list[str]:
    """Save every existing target table beside itself, inside the caller's transaction."""
    q, saved = target.quote, []
    cursor = conn.cursor()
    for table in plan.tables:
        if not table.exists:
            continue
        name = snapshot_name(migration_id, table.target)
        cursor.execute(f"DROP TABLE IF EXISTS {q(name)}")
        cursor.execute(f"CREATE TABLE {q(name)} AS SELECT * FROM {q(table.target)}")
        saved.append(table.target)
    return saved


def roll_back(
    target: Connector, plan: CopyPlan, book: Bookkeeping, strategy: str, snapshots: set[str]
) -> list[dict[str, Any]]:
    """Truncate (or restore from the snapshot) every table of the plan, children first, in
    one transaction where the engine allows it; the copy's checkpoints go too."""
    conn = connect(target, "target")
    q = target.quote
    report = []
    try:
        target.begin(conn)
        cursor = conn.cursor()
        for name in plan.targets_to_clear:
            before = count(conn, target, name)
            target.truncate(conn, name)
            report.append({"table": name, "rows_before": before})
        if strategy == "point-in-time":
            for name in reversed(plan.targets_to_clear):
                saved = snapshot_name(book.migration_id, name)
                if name in snapshots:
                    cursor.execute(f"INSERT INTO {q(name)} SELECT * FROM {q(saved)}")
        book.forget_all(conn)
        for entry in report:
            entry["rows_after"] = count(conn, target, str(entry["table"]))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    return report
