"""The checkpoint table in the target: where each key range of each table got to.

A batch's rows and its checkpoint row commit in one target transaction, so the table holds
exactly what the target holds. Rows are keyed by (migration, copy, table, range); a copy is
a run and its retries. Range -1 of table ``*`` marks a prepared copy (target prepared,
ranges laid out); range -2 of a table holds its incremental watermark across copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moonshift.connectors.base import Connector

PREPARED = ("*", -1)
WATERMARK_RANGE = -2
FOREIGN_KEYS = ("*", -3)
WATERMARK_COPY = 0


class CheckpointMoved(Exception):
    """Another worker committed this range's next batch first."""


@dataclass(frozen=True)
class RangeState:
    table: str
    range_id: int
    lo: str | None  # first key column, exclusive (encoded); None from the start
    hi: str | None  # first key column, inclusive (encoded); None to the end
    last_key: str | None  # the last key committed (encoded)
    rows_done: int
    done: bool
    upper: str | None = None  # incremental: the cursor's upper bound for this copy


class Bookkeeping:
    def __init__(self, target: Connector, table: str, migration_id: str, copy_id: int) -> None:
        self.target, self.table, self.migration_id, self.copy_id = (
            target,
            table,
            migration_id,
            copy_id,
        )
        self.q = target.quote(table)
        p = target.placeholder
        self._update = (
            f"UPDATE {self.q} SET last_key = {p}, rows_done = rows_done + {p}, done = {p}, "
            f"updated_at = {p} WHERE migration_id = {p} AND copy_id = {p} AND table_name = {p} "
            f"AND range_id = {p} AND done = 0 AND "
        )

    def ensure(self, conn: Any) -> None:
        """Create the table when the target has none (its own transaction)."""
        columns = [
            ("migration_id", "VARCHAR(63)", False),
            ("copy_id", "BIGINT", False),
            ("table_name", "VARCHAR(128)", False),
            ("range_id", "INTEGER", False),
            ("lo", "TEXT", True),
            ("hi", "TEXT", True),
            ("last_key", "TEXT", True),
            ("rows_done", "BIGINT", False),
            ("done", "SMALLINT", False),
            ("upper_bound", "TEXT", True),
            ("updated_at", "VARCHAR(40)", False),
        ]
        ddl = self.target.create_table_sql(
            self.table, columns, ("migration_id", "copy_id", "table_name", "range_id")
        )
        ddl = ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)
        self.target.begin(conn)
        conn.cursor().execute(ddl)
        conn.commit()

    def load(self, conn: Any, copy_id: int | None = None) -> dict[tuple[str, int], RangeState]:
        p = self.target.placeholder
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT table_name, range_id, lo, hi, last_key, rows_done, done, upper_bound "
            f"FROM {self.q} WHERE migration_id = {p} AND copy_id = {p}",
            (self.migration_id, self.copy_id if copy_id is None else copy_id),
        )
        found = {
            (row[0], int(row[1])): RangeState(
                row[0], int(row[1]), row[2], row[3], row[4], int(row[5]), bool(row[6]), row[7]
            )
            for row in cursor.fetchall()
        }
        conn.rollback()
        return found

    def insert(self, conn: Any, ranges: Iterable[RangeState], copy_id: int | None = None) -> None:
        p = self.target.placeholder
        sql = (
            f"INSERT INTO {self.q} (migration_id, copy_id, table_name, range_id, lo, hi, "
            f"last_key, rows_done, done, upper_bound, updated_at) "
            f"VALUES ({', '.join([p] * 11)})"
        )
        copy = self.copy_id if copy_id is None else copy_id
        rows = [
            (
                self.migration_id,
                copy,
                r.table,
                r.range_id,
                r.lo,
                r.hi,
                r.last_key,
                r.rows_done,
                int(r.done),
                r.upper,
                _now(),
            )
            for r in ranges
        ]
        conn.cursor().executemany(sql, rows)

    def advance(
        self,
        conn: Any,
        table: str,
        range_id: int,
        start: str | None,
        last_key: str | None,
        rows: int,
        done: bool,
    ) -> None:
        """Move a range's checkpoint from ``start`` to ``last_key``, inside the batch's own
        transaction. Only from ``start``: a worker that lost the range to another (a lease
        that expired under it) finds the checkpoint moved, and its batch is rolled back."""
        p = self.target.placeholder
        params = [
            last_key,
            rows,
            int(done),
            _now(),
            self.migration_id,
            self.copy_id,
            table,
            range_id,
        ]
        fence = "last_key IS NULL" if start is None else f"last_key = {p}"
        cursor = conn.cursor()
        cursor.execute(self._update + fence, [*params, *([] if start is None else [start])])
        if cursor.rowcount != 1:
            raise CheckpointMoved(
                f"{table} range {range_id}: its checkpoint moved under this worker"
            )

    def forget_other_copies(self, conn: Any) -> None:
        p = self.target.placeholder
        conn.cursor().execute(
            f"DELETE FROM {self.q} WHERE migration_id = {p} AND copy_id <> {p} AND copy_id <> {p}",
            (self.migration_id, self.copy_id, WATERMARK_COPY),
        )

    def forget_all(self, conn: Any) -> None:
        p = self.target.placeholder
        conn.cursor().execute(
            f"DELETE FROM {self.q} WHERE migration_id = {p}", (self.migration_id,)
        )

    def watermarks(self, conn: Any) -> dict[str, str | None]:
        states = self.load(conn, WATERMARK_COPY)
        return {table: s.upper for (table, rid), s in states.items() if rid == WATERMARK_RANGE}

    def set_watermark(self, conn: Any, table: str, value: str | None) -> None:
        """Inside the transaction of the table's last batch."""
        p = self.target.placeholder
        conn.cursor().execute(
            f"DELETE FROM {self.q} WHERE migration_id = {p} AND copy_id = {p} "
            f"AND table_name = {p} AND range_id = {p}",
            (self.migration_id, WATERMARK_COPY, table, WATERMARK_RANGE),
        )
        state = RangeState(table, WATERMARK_RANGE, None, None, None, 0, True, value)
        self.insert(conn, [state], WATERMARK_COPY)

    def mark(self, conn: Any, marker: tuple[str, int]) -> None:
        self.insert(conn, [RangeState(marker[0], marker[1], None, None, None, 0, True)])


def _now() -> str:
    return datetime.now(UTC).isoformat()
