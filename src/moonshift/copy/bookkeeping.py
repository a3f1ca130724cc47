"""The checkpoint table in the target: where each key range of each table got to.

A batch's rows and its checkpoint row commit in one target transaction, so the table holds
exactly what the target holds. Rows are keyed by (migration, copy, table, range); a copy is
a run and its retries. Range -1 of table ``*`` marks a prepared copy (target prepared,
ranges laid out); range -2 of a table holds its incremental watermark across copies.
Ranges -100, -101, ... are the copy's phases after the load, in order (kind in ``lo``,
object name in ``hi``, statement in ``upper_bound``): each is done when its row says so,
whatever a later plan finds in the target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moonshift.connectors.base import Connector
from moonshift.connectors.ddl import ColumnDef, TableDef

PREPARED = ("*", -1)
WATERMARK_RANGE = -2
WATERMARK_COPY = 0
FIRST_PHASE = -100


class CheckpointMoved(Exception):
    """Another worker committed this range's next batch first."""


@dataclass(frozen=True)
class RangeState:
    table: str
    range_id: int
    lo: str | None  # a key tuple or its first column, exclusive (encoded); None: from the start
    hi: str | None  # a key tuple or its first column, inclusive (encoded); None: to the end
    last_key: str | None  # the last key committed (encoded)
    rows_done: int
    done: bool
    upper: str | None = None  # incremental: the cursor's upper bound for this copy


@dataclass(frozen=True)
class Phase:
    """A statement that runs once every row is in (an index, a foreign key, ...)."""

    table: str
    kind: str
    name: str
    sql: str
    done: bool = False
    range_id: int = FIRST_PHASE

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


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
        columns = (
            ColumnDef("migration_id", "VARCHAR(63)", False),
            ColumnDef("copy_id", "BIGINT", False),
            ColumnDef("table_name", "VARCHAR(128)", False),
            ColumnDef("range_id", "INTEGER", False),
            ColumnDef("lo", "TEXT"),
            ColumnDef("hi", "TEXT"),
            ColumnDef("last_key", "TEXT"),
            ColumnDef("rows_done", "BIGINT", False),
            ColumnDef("done", "SMALLINT", False),
            ColumnDef("upper_bound", "TEXT"),
            ColumnDef("updated_at", "VARCHAR(40)", False),
        )
        key = ("migration_id", "copy_id", "table_name", "range_id")
        ddl = self.target.create_table_sql(TableDef(self.table, columns, key))
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

    # -- phases after the load ----------------------------------------------------------------

    def add_phases(self, conn: Any, phases: Sequence[Phase]) -> None:
        self.insert(
            conn,
            [
                RangeState(p.table, FIRST_PHASE - n, p.kind, p.name, None, 0, p.done, p.sql)
                for n, p in enumerate(phases)
            ],
        )

    def phases(self, conn: Any) -> list[Phase]:
        """This copy's phases, in order."""
        states = self.load(conn)
        return [
            _phase(s)
            for (_t, rid), s in sorted(states.items(), key=lambda i: -i[0][1])
            if rid <= FIRST_PHASE
        ]

    def unfinished(self, conn: Any) -> list[Phase]:
        """Phases not done, of every copy of the migration but this one (a copy that failed
        after its rows were in leaves them for the next)."""
        p = self.target.placeholder
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT table_name, range_id, lo, hi, last_key, rows_done, done, upper_bound "
            f"FROM {self.q} WHERE migration_id = {p} AND copy_id <> {p} AND copy_id <> {p} "
            f"AND range_id <= {p} AND done = 0 ORDER BY copy_id, range_id DESC",
            (self.migration_id, self.copy_id, WATERMARK_COPY, FIRST_PHASE),
        )
        rows = cursor.fetchall()
        conn.rollback()
        return [
            _phase(RangeState(r[0], int(r[1]), r[2], r[3], r[4], int(r[5]), bool(r[6]), r[7]))
            for r in rows
        ]

    def finish_phase(self, conn: Any, phase: Phase) -> None:
        p = self.target.placeholder
        conn.cursor().execute(
            f"UPDATE {self.q} SET done = 1, updated_at = {p} WHERE migration_id = {p} "
            f"AND copy_id = {p} AND table_name = {p} AND range_id = {p}",
            (_now(), self.migration_id, self.copy_id, phase.table, phase.range_id),
        )

    def pending(self, conn: Any) -> tuple[list[RangeState], list[Phase]]:
        """What the latest copy of the migration has not finished: key ranges and phases."""
        p = self.target.placeholder
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT table_name, range_id, lo, hi, last_key, rows_done, done, upper_bound "
            f"FROM {self.q} WHERE migration_id = {p} AND copy_id <> {p} AND done = 0 "
            f"AND (range_id >= 0 OR range_id <= {p})",
            (self.migration_id, WATERMARK_COPY, FIRST_PHASE),
        )
        rows = [
            RangeState(r[0], int(r[1]), r[2], r[3], r[4], int(r[5]), bool(r[6]), r[7])
            for r in cursor.fetchall()
        ]
        conn.rollback()
        return [r for r in rows if r.range_id >= 0], [_phase(r) for r in rows if r.range_id < 0]


def _phase(state: RangeState) -> Phase:
    return Phase(
        state.table, state.lo or "", state.hi or "", state.upper or "", state.done, state.range_id
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
