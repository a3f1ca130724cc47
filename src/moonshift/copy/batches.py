"""One key range of one table: read batches by key, write each with its checkpoint.

The reader runs ahead by one batch in its own thread, so the source is read while the
target writes. A batch is written in one target transaction together with its checkpoint;
a batch the target refuses is split in halves (savepoints) until the bad rows are found:
the good rows and the checkpoint commit, the bad rows go to the error queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from moonshift.connectors.base import Connector, Stopped
from moonshift.connectors.values import convert_rows
from moonshift.copy import keys
from moonshift.copy.bookkeeping import Bookkeeping, RangeState
from moonshift.copy.plan import TablePlan
from moonshift.errors import TerminalError, TransientError, first_line

log = logging.getLogger("moonshift.copy")


class SideError(Exception):
    """A database error of its kind, with the side it came from."""

    def __init__(self, side: str, error: TransientError | TerminalError) -> None:
        super().__init__(f"{side}: {error}")
        self.side, self.error = side, error

    @property
    def transient(self) -> bool:
        return isinstance(self.error, TransientError)


class Aborted(Exception):
    """``stop --immediate``: the batch in flight was rolled back."""


@dataclass
class Batch:
    last: tuple[Any, ...] | None  # the key of its last row: the checkpoint
    count: int
    final: bool  # no rows after it in this range
    rows: list[Any] | None = None
    # A streamed batch (COPY BINARY between two engines that have it): the source query,
    # run on ``source_conn`` while the target writes, so nothing is held in between.
    stream_sql: str | None = None
    source_conn: Any = None
    # The streamed query's upper key (None: open, to the end of the range); a refused batch
    # is read again as rows within the same bounds.
    bound: tuple[Any, ...] | None = None
    # A batch read as CSV text (between engines the servers spell and load it themselves).
    text: bytes | None = None
    # SQLite to SQLite: the batch's rows as a query on the source attached to the target's
    # connection, written by one INSERT ... SELECT (with its parameters).
    attached_select: tuple[str, list[Any]] | None = None
    # ... of the whole range, a table that fits in one batch: one statement with no key range
    whole: bool = False
    read_seconds: float = 0.0
    transform_seconds: float = 0.0
    # Of a streamed batch's write, the time the target waited for the source.
    read_while_writing: float = 0.0


@dataclass(frozen=True)
class BadRow:
    table: str
    key: tuple[Any, ...] | None
    values: dict[str, Any]
    message: str


@dataclass
class Flags:
    stop: threading.Event = field(default_factory=threading.Event)  # after this batch
    abort: threading.Event = field(default_factory=threading.Event)  # now, rolling back


@dataclass
class RangeJob:
    """What a range copier needs from the copy around it."""

    plan: TablePlan
    state: RangeState
    source: Connector
    target: Connector
    book: Bookkeeping
    flags: Flags
    batch_size: Callable[[bool], int]  # rows per batch, given whether the batch streams
    upsert: bool
    watermark: tuple[Any, ...] | None  # incremental: cursor >= this
    on_bad_rows: Callable[[list[BadRow]], None]  # before the commit that skips them
    # A single integer key's (smallest, greatest) value when the copy was planned: a
    # streamed batch is then a range of key values holding about batch_size rows.
    key_bounds: tuple[int, int, int] | None = None  # (min, max, rows)


class SqlBuilder:
    """The reads of a range, in the source's SQL."""

    def __init__(self, job: RangeJob, schema: str | None = None) -> None:
        """``schema``: the name the source is attached under, to read it from the target's
        connection (SQLite)."""
        self.job = job
        src = job.source
        self.q = src.quote
        self.p = src.placeholder
        plan = job.plan
        self.key = [self.q(k) for k in plan.key]
        self.columns = ", ".join(plan.reads)
        self.table = f"{schema}.{plan.source_from}" if schema else plan.source_from

    def conditions(self, after: tuple[Any, ...] | None) -> tuple[list[str], list[Any]]:
        plan, state = self.job.plan, self.job.state
        conds: list[str] = [f"({plan.where})"] if plan.where else []
        params: list[Any] = []
        # a range's bounds are key tuples, or a prefix of the key (its first column)
        for op, bound in ((">", state.lo), ("<=", state.hi)):
            if bound is not None:
                cond, values = self.compare(op, keys.decode(bound) or ())
                conds.append(cond)
                params += values
        if plan.cursor:
            cursor = self.q(plan.cursor)
            if self.job.watermark is not None:
                conds.append(f"{cursor} >= {self.p}")
                params += list(self.job.watermark)
            upper = keys.decode(state.upper)
            if upper is not None:
                conds.append(f"{cursor} <= {self.p}")
                params += list(upper)
        if after is not None:
            cond, values = self.compare(">", after)
            conds.append(cond)
            params += values
        return conds, params

    def compare(self, op: str, key: Sequence[Any]) -> tuple[str, list[Any]]:
        if len(key) == 1:
            return f"{self.key[0]} {op} {self.p}", [key[0]]
        if self.job.source.engine != "mysql":
            marks = ", ".join([self.p] * len(key))
            return f"({', '.join(self.key[: len(key)])}) {op} ({marks})", list(key)
        # (a, b) > (x, y) spelled out, which MySQL turns into a range scan.
        parts, params = [], []
        for i in range(len(key)):
            eq = [f"{self.key[j]} = {self.p}" for j in range(i)]
            strict = op.rstrip("=")
            last = f"{self.key[i]} {strict if i < len(key) - 1 or op == strict else op} {self.p}"
            parts.append("(" + " AND ".join([*eq, last]) + ")")
            params += [*key[:i], key[i]]
        return "(" + " OR ".join(parts) + ")", params

    def where(self, conds: list[str]) -> str:
        return (" WHERE " + " AND ".join(conds)) if conds else ""

    def select(self, after: tuple[Any, ...] | None, limit: int | None) -> tuple[str, list[Any]]:
        conds, params = self.conditions(after)
        plan = self.job.plan
        sql = f"SELECT {self.columns} FROM {self.table}{self.where(conds)}"
        if plan.key:
            sql += " ORDER BY " + ", ".join(self.key)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return sql, params

    def nth_key(self, after: tuple[Any, ...] | None, limit: int) -> tuple[str, list[Any]]:
        """The key of the ``limit``-th row after ``after``: an index scan, and no sort."""
        conds, params = self.conditions(after)
        keys_sql = ", ".join(self.key)
        return (
            f"SELECT {keys_sql} FROM {self.table}{self.where(conds)} "
            f"ORDER BY {keys_sql} LIMIT 1 OFFSET {int(limit) - 1}",
            params,
        )

    def last_key(self, after: tuple[Any, ...] | None, limit: int) -> tuple[str, list[Any]]:
        """The last key of the (fewer than ``limit``) rows left after ``after``, and how many
        there are (not max(): some key types have none, PostgreSQL's uuid)."""
        conds, params = self.conditions(after)
        keys_sql = ", ".join(self.key)
        inner = (
            f"SELECT {keys_sql} FROM {self.table}{self.where(conds)} "
            f"ORDER BY {keys_sql} LIMIT {int(limit)}"
        )
        descending = ", ".join(f"{k} DESC" for k in self.key)
        return (
            f"SELECT {keys_sql}, COUNT(*) OVER () FROM ({inner}) ms_s "
            f"ORDER BY {descending} LIMIT 1",
            params,
        )

    def boundary(
        self, conn: Any, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[tuple[Any, ...], int] | None:
        """The last key of the next ``limit`` rows and how many rows that is; None when no
        row is left. Usually one query; the range's last batch needs a second."""
        cursor = conn.cursor()
        cursor.execute(*self.nth_key(after, limit))
        row = cursor.fetchone()
        if row is not None:
            return tuple(row), limit
        cursor.execute(*self.last_key(after, limit))
        row = cursor.fetchone()
        if row is None or not row[-1]:
            return None
        return tuple(row[:-1]), int(row[-1])

    def greatest_key(self) -> tuple[str, list[Any]]:
        """The greatest key of the range's rows."""
        conds, params = self.conditions(None)
        keys_sql = ", ".join(self.key)
        descending = ", ".join(f"{k} DESC" for k in self.key)
        return (
            f"SELECT {keys_sql} FROM {self.table}{self.where(conds)} ORDER BY {descending} LIMIT 1",
            params,
        )

    def between(
        self, after: tuple[Any, ...] | None, bound: tuple[Any, ...] | None, columns: str
    ) -> tuple[str, list[Any]]:
        """``columns`` of the rows after ``after`` up to ``bound`` (None: to the range's end)."""
        conds, params = self.conditions(after)
        if bound is not None:
            cond, values = self.compare("<=", bound)
            conds, params = [*conds, cond], params + values
        return f"SELECT {columns} FROM {self.table}{self.where(conds)}", params


ATTACHED = "ms_source"


def attachable(plan: TablePlan, source: Connector, target: Connector) -> bool:
    """Whether the table's rows can pass as they are, source attached to the target's
    connection (SQLite to SQLite, a keyed table, no value converted)."""
    return target.can_attach(source) and bool(plan.key) and all(c is None for c in plan.converters)


def streams(plan: TablePlan, upsert: bool) -> bool:
    """Engines with binary COPY (PostgreSQL to PostgreSQL): a batch moves from the source's
    COPY TO straight into the target's COPY FROM, both servers working at once, like the two
    ends of a pipe; nothing is held in between."""
    return plan.binary and bool(plan.key) and not upsert


class RangeCopier:
    def __init__(self, job: RangeJob) -> None:
        self.job = job
        self.sql = SqlBuilder(job)
        self.plan = job.plan
        self._fallback_source: Any = None
        # the text path: fewer rows a batch once a batch was too large for one read
        self._csv_rows: int | None = None
        self._attached_sql = SqlBuilder(job, ATTACHED)
        self._attached_to: Any = None  # the target connection the source is attached to

    # -- reading (its own thread) ------------------------------------------------------------

    def read(self, conn: Any, after: tuple[Any, ...] | None) -> Iterator[Batch]:
        job = self.job
        if self.plan.cursor:
            job.source.begin_snapshot(conn)
        if self.plan.csv is not None and self.csv:
            log.info("%s range %d: %s", self.plan.target, job.state.range_id, self.plan.csv.how)
        while not job.flags.stop.is_set():
            size = job.batch_size(self.streams) if self.plan.key else 1 << 62
            started = time.perf_counter()
            if self.attaches:
                batch = self._read_attached(conn, after, size)
            elif self.streams:
                batch = self._read_binary(conn, after, size)
            elif self.csv:
                batch = self._read_csv(conn, after, size)
            else:
                batch = self._read_rows(conn, after, size)
            batch.read_seconds += time.perf_counter() - started - batch.transform_seconds
            yield batch
            if not self.plan.cursor:
                conn.rollback()  # one short read transaction per batch
            if batch.final:
                return
            after = batch.last

    def _value_range(self, conn: Any, after: tuple[Any, ...] | None, size: int) -> Batch:
        """The next ``size`` rows' worth of key values, as the key's density says: no
        look-ahead query. The batch's checkpoint is the upper end of its values; the last
        batch of the table has none, so rows added since the plan come along."""
        from psycopg import ClientCursor

        last, final, bound = self._next_values(after, size)
        sql, params = self.sql.between(after, bound, self.plan.streamed_reads)
        select = ClientCursor(conn).mogrify(sql, params)
        return Batch(last, 0, final, stream_sql=select, source_conn=conn, bound=bound)

    def _next_values(
        self, after: tuple[Any, ...] | None, size: int
    ) -> tuple[tuple[Any, ...], bool, tuple[Any, ...] | None]:
        """The next batch's key values: its checkpoint, whether it ends the range, and its
        upper bound (None: open)."""
        assert self.job.key_bounds is not None
        low, high, rows = self.job.key_bounds
        state = self.job.state
        ceiling = int((keys.decode(state.hi) or (high,))[0])
        floor = after or keys.decode(state.lo) or (low - 1,)
        end = int(floor[0]) + max(1, (high - low + 1) * size // max(rows, 1))
        final = end >= ceiling
        last = (min(end, ceiling),)
        return last, final, None if final and state.hi is None else last

    @property
    def streams(self) -> bool:
        return streams(self.plan, self.job.upsert)

    @property
    def csv(self) -> bool:
        """Between engines whose servers spell and load CSV (``connectors.textcopy``)."""
        return self.plan.csv is not None and bool(self.plan.key) and not self.job.upsert

    def _read_csv(self, conn: Any, after: tuple[Any, ...] | None, size: int) -> Batch:
        """The next batch as CSV text, read by key values (one query) or, for other keys
        and once a batch was too large to read in one piece, by row count."""
        assert self.plan.csv is not None
        source = self.job.source
        select = source.csv_select(self.plan.csv.fields)
        while True:
            size = min(size, self._csv_rows or size)
            if self.job.key_bounds is not None and self._csv_rows is None:
                last, final, bound = self._next_values(after, size)
            else:
                found = self.sql.boundary(conn, after, size)
                if found is None:
                    return Batch(after, 0, True)
                last, count = found
                final, bound = count < size, last
            sql, params = self.sql.between(after, bound, select)
            text, count = source.read_csv(conn, sql, params)
            if text is not None:
                return Batch(last, count, final, text=text, bound=bound)
            if size == 1:  # one row too large for a packet: read as a row
                return self._read_rows(conn, after, 1)
            self._csv_rows = max(1, min(size, count) // 2)
            log.info(
                "%s: %d rows are more than one read holds; reading %d at a time",
                self.plan.target,
                count,
                self._csv_rows,
            )
            conn.rollback()

    @property
    def attaches(self) -> bool:
        """Values passed as they are between engines that can attach one database to
        another's connection (SQLite to SQLite): each batch is one INSERT ... SELECT, no row
        goes through Python."""
        return attachable(self.plan, self.job.source, self.job.target) and not self.job.upsert

    def _read_attached(self, conn: Any, after: tuple[Any, ...] | None, size: int) -> Batch:
        """The batch's last key (an index scan of its keys); its rows stay in the source."""
        state = self.job.state
        whole = after is None and state.lo is None and state.hi is None
        if whole and self.plan.rows <= size:
            cursor = conn.cursor()
            cursor.execute(*self.sql.nth_key(None, size + 1))
            if cursor.fetchone() is None:
                # the whole table fits in one batch: one statement with no key range, which
                # SQLite may run as a transfer of its records (the writer finds its last key)
                select = self._attached_sql.between(None, None, self._attached_sql.columns)
                return Batch(None, 0, True, attached_select=select, whole=True)
        found = self.sql.boundary(conn, after, size)
        if found is None:
            return Batch(after, 0, True)
        last, count = found
        select = self._attached_sql.between(after, last, self._attached_sql.columns)
        return Batch(last, count, count < size, bound=last, attached_select=select)

    def _attach(self, conn: Any) -> None:
        """Attach the source to ``conn`` (outside a transaction, once per connection)."""
        if self._attached_to is not conn:
            self.job.target.attach(conn, self.job.source, ATTACHED)
            self._attached_to = conn

    def _read_rows(self, conn: Any, after: tuple[Any, ...] | None, size: int) -> Batch:
        sql, params = self.sql.select(after, size if self.plan.key else None)
        cursor = conn.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        started = time.perf_counter()
        converted = convert_rows(rows, self.plan.converters)
        transform = time.perf_counter() - started
        index = self.plan.key_index
        last = tuple(rows[-1][i] for i in index) if rows and index else after
        return Batch(last, len(rows), len(rows) < size, rows=converted, transform_seconds=transform)

    def _read_binary(self, conn: Any, after: tuple[Any, ...] | None, size: int) -> Batch:
        from psycopg import ClientCursor

        if self.job.key_bounds is not None:
            return self._value_range(conn, after, size)
        found = self.sql.boundary(conn, after, size)
        if found is None:
            return Batch(after, 0, True)
        last, count = found
        sql, params = self.sql.between(after, last, self.plan.streamed_reads)
        select = ClientCursor(conn).mogrify(sql, params)
        return Batch(last, count, count < size, stream_sql=select, source_conn=conn, bound=last)

    # -- writing --------------------------------------------------------------------------

    def write(self, conn: Any, batch: Batch, after: tuple[Any, ...] | None) -> int:
        """Write a batch and its checkpoint in one transaction; returns the rows written."""
        job, target = self.job, self.job.target
        if batch.attached_select is not None:
            self._attach(conn)
        target.begin(conn)
        cursor = conn.cursor()
        written = 0
        if not self.plan.key:
            target.truncate(conn, self.plan.target)  # a keyless table: whole, in one go
        if batch.count or batch.whole or batch.stream_sql is not None:
            cursor.execute("SAVEPOINT ms_batch")
            try:
                if batch.attached_select is not None:
                    written = self._insert_select(conn, batch)
                elif batch.text is not None:
                    csv = self.plan.csv
                    assert csv is not None
                    target.write_csv(
                        conn,
                        self.plan.target,
                        self.plan.target_columns,
                        csv.loads,
                        batch.text,
                        batch.count,
                    )
                    written = batch.count
                elif batch.stream_sql is not None:
                    written, batch.read_while_writing = target.copy_from(
                        self.job.source,
                        batch.source_conn,
                        batch.stream_sql,
                        conn,
                        self.plan.target,
                        self.plan.target_columns,
                        stop=job.flags.abort.is_set,
                        copy_format=self.plan.copy_format,
                    )
                    batch.count = written
                else:
                    self._insert(cursor, batch.rows or [])
                    written = batch.count
            except Stopped:
                raise Aborted() from None
            except (Aborted, SideError):
                raise
            except Exception as exc:
                if isinstance(target.translate(exc), TransientError):
                    raise
                cursor.execute("ROLLBACK TO SAVEPOINT ms_batch")
                if batch.text is not None:
                    log.info(
                        "%s: a batch as CSV was refused (%s); rows instead",
                        job.plan.target,
                        first_line(exc),
                    )
                rows = batch.rows if batch.rows is not None else self._reread(after, batch.bound)
                bad = self._isolate(cursor, rows)
                job.on_bad_rows([self._bad(row, msg) for row, msg in bad])
                written = len(rows) - len(bad)
                batch.count = len(rows) if batch.whole else batch.count
        if batch.whole:  # in this transaction: the greatest key of the rows it read
            cursor.execute(*self._attached_sql.greatest_key())
            row = cursor.fetchone()
            batch.last = None if row is None else tuple(row)
        job.book.advance(
            conn,
            self.plan.target,
            job.state.range_id,
            keys.encode(after),
            keys.encode(batch.last),
            written,
            batch.final,
        )
        if batch.final and self.plan.cursor:
            job.book.set_watermark(conn, self.plan.target, job.state.upper)
        if job.flags.abort.is_set():
            conn.rollback()
            raise Aborted()
        target.commit_batch(conn, durable=batch.final or job.flags.stop.is_set())
        return written

    def _insert_select(self, conn: Any, batch: Batch) -> int:
        """One INSERT ... SELECT from the attached source; ``stop --immediate`` interrupts it."""
        assert batch.attached_select is not None
        target, plan = self.job.target, self.plan
        select, params = batch.attached_select
        table = f"main.{target.quote(plan.target)}"
        if batch.whole and self._transferable(conn):
            # no column list, no WHERE, every column: SQLite's transfer, which copies each
            # record as it is stored, without decoding it
            sql, params = f"INSERT INTO {table} SELECT * FROM {self._attached_sql.table}", []
        else:
            names = ", ".join(target.quote(c) for c in plan.target_columns)
            sql = f"INSERT INTO {table} ({names}) {select}"
        written = target.insert_attached(conn, sql, params, self.job.flags.abort.is_set)
        if batch.whole:
            batch.count = written
        return written

    def _transferable(self, conn: Any) -> bool:
        """Whether the source's table and the target's have the same stored columns in the
        same order, each read as it is: then ``INSERT ... SELECT *`` is the plan's copy."""
        plan, target = self.plan, self.job.target
        if plan.where or plan.reads != tuple(map(self.job.source.quote, plan.source_columns)):
            return False
        return (
            target.stored_columns(conn, plan.source, ATTACHED) == plan.source_columns
            and target.stored_columns(conn, plan.target, "main") == plan.target_columns
        )

    def _insert(self, cursor: Any, rows: Sequence[Any]) -> None:
        target, plan = self.job.target, self.plan
        if self.job.upsert:
            sql = target.upsert_sql(plan.target, plan.target_columns, plan.target_key)
            cursor.executemany(sql, rows)
        else:
            target.write_rows(cursor, plan.target, plan.target_columns, rows)

    def _isolate(self, cursor: Any, rows: Sequence[Any]) -> list[tuple[Any, str]]:
        """Halve ``rows`` until each refused row stands alone; the rest is written."""
        bad: list[tuple[Any, str]] = []
        pending = [list(rows)]
        while pending:
            part = pending.pop()
            cursor.execute("SAVEPOINT ms_part")
            try:
                self._insert(cursor, part)
                cursor.execute("RELEASE SAVEPOINT ms_part")
            except Exception as exc:
                if isinstance(self.job.target.translate(exc), TransientError):
                    raise
                cursor.execute("ROLLBACK TO SAVEPOINT ms_part")
                if len(part) == 1:
                    bad.append((part[0], first_line(exc)))
                else:
                    middle = len(part) // 2
                    pending += [part[middle:], part[:middle]]
        return bad

    def _reread(self, after: tuple[Any, ...] | None, bound: tuple[Any, ...] | None) -> list[Any]:
        """The rows of a streamed batch the target refused, read again as rows."""
        if self._fallback_source is None:
            self._fallback_source = self.job.source.connect()
        conn = self._fallback_source
        sql, params = self.sql.between(after, bound, self.sql.columns)
        cursor = conn.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        conn.rollback()
        return convert_rows(rows, self.plan.converters)

    def _bad(self, row: Sequence[Any], message: str) -> BadRow:
        plan = self.plan
        key = tuple(row[i] for i in plan.key_index) if plan.key else None
        return BadRow(plan.source, key, dict(zip(plan.source_columns, row, strict=True)), message)

    def close(self) -> None:
        if self._fallback_source is not None:
            self._fallback_source.close()


_END = object()


Translate = Callable[[BaseException], TransientError | TerminalError]


def tagged(
    batches: Iterator[Batch], side: str, translate: Translate
) -> Generator[Batch, None, None]:
    """Batches read in this thread, their failures marked as ``side``'s."""
    while True:
        try:
            batch = next(batches, None)
        except SideError:
            raise
        except Exception as exc:
            raise SideError(side, translate(exc)) from exc
        if batch is None:
            return
        yield batch


def run_ahead(
    produce: Iterator[Batch], side: str, translate: Translate
) -> Generator[Batch, None, None]:
    """Read the next batch in a thread while the caller writes this one (memory: two batches)."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item: Any) -> bool:
        """Give the caller an item; False once the caller has gone (it takes no more)."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for item in produce:
                if not hand(item):
                    return
            hand(_END)
        except BaseException as exc:
            hand(SideError(side, translate(exc)))
        finally:
            close = getattr(produce, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=pump, name="moonshift-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, SideError):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
