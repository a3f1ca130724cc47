"""Measuring a copy before it runs: a short sample of every table read and written the way
the copy does it, for its rates, the target space it needs, and a profile of each column.

Reads the first rows in key order, in batches of ``batch_size``; converts them with the
plan's converters; writes them in batches, each in its own transaction, into a scratch
table with the target columns (dropped after). Bounded by rows and seconds per table, so a
big table costs the same as a small one, and by a share of the table's rows, so a small
one's copy does not wait on a sample as long as itself; profiled on its first rows (a
quarter of the sample, ``PROFILE_ROWS`` at most). A streamed COPY (PostgreSQL to
PostgreSQL) is sampled streamed, a table copied as CSV (``connectors.textcopy``) as CSV, and
SQLite to SQLite as one INSERT ... SELECT a batch.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import comparable, convert_rows
from moonshift.copy.batches import Batch, attachable, run_ahead, streams
from moonshift.copy.plan import CopyPlan, TablePlan
from moonshift.errors import first_line

SAMPLE_ROWS = 50_000  # per table, at most (unless that is fewer than SAMPLE_BATCHES)
SAMPLE_BATCHES = 4  # a pipeline's steady state needs a few batches
MAX_SAMPLE_ROWS = 250_000
# A sample of at most this share of a table's rows (above MIN_SAMPLE_ROWS): sampling costs
# about what copying those rows does, so at most a few percent of the copy it plans.
SAMPLE_SHARE = 0.02
MIN_SAMPLE_ROWS = 10_000
PROFILE_ROWS = 10_000  # the first rows, profiled as values: a quarter of the sample at most
SIZED_ROWS = 2_000  # of those, the rows whose size per row gives the target's bytes
# At most, per table and side: a few batches after the first show the steady rate, and
# every second here is a second before the first row is copied, at every start of a run.
SAMPLE_SECONDS = 0.5
SAMPLE_BUDGET = 8.0  # at most, per side, for all the tables of a plan
TOP_VALUES = 5
ROW_OVERHEAD = 24  # bytes a row costs besides its values (a tuple header, roughly)


@dataclass(frozen=True)
class Sample:
    rows: list[Any]
    read_seconds: float
    write_seconds: float
    written: int
    elapsed: float = 0.0  # reading and writing overlap, as in the copy
    read_rows: int | None = None  # rows read, where the profile's rows are fewer


def measure(
    plan: CopyPlan, source: Connector, target: Connector, batch_rows: Callable[[bool], int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The profile of every copied column, and the estimate: per table its rows, read and
    write rates (rows/s), seconds and target bytes; in all, seconds and bytes.
    ``batch_rows``: rows per batch, given whether the batch streams (as the copy sizes it)."""
    profiles: dict[str, Any] = {}
    tables: list[dict[str, Any]] = []
    src, dst = connect(source, "source"), connect(target, "target")
    seconds = min(SAMPLE_SECONDS, SAMPLE_BUDGET / max(1, len(plan.tables)))
    keyed_after = {s.table for s in plan.phases if s.kind == "primary key"}
    try:
        for t in plan.tables:
            try:
                size = batch_rows(streams(t, upsert=False))
                keyed = t.target not in keyed_after  # as the copy writes: key and all
                sample = _sample(t, source, target, (src, dst), size, seconds, keyed)
            except Exception as exc:  # the risks name what is missing; estimate the rest
                src.rollback()
                dst.rollback()
                error = first_line(exc)
                tables.append(
                    {
                        "table": t.source,
                        "rows": t.rows,
                        "seconds": 0.0,
                        "target_bytes": 0,
                        "error": error,
                    }
                )
                continue
            profiles[t.source] = profile(t.source_columns, sample.rows, t.rows)
            tables.append(_estimate(t, sample))
    finally:
        src.close()
        dst.close()
    return profiles, {
        "seconds": round(sum(t["seconds"] for t in tables), 6),
        "target_bytes": sum(t["target_bytes"] for t in tables),
        "tables": tables,
    }


def _sample(
    t: TablePlan,
    source: Connector,
    target: Connector,
    conns: tuple[Any, Any],
    batch_size: int,
    seconds: float,
    keyed: bool = True,
) -> Sample:
    """Batch after batch, as the copy does: the next rows in key order read (and converted)
    in a thread while the last batch and a checkpoint row are written in one transaction;
    until ``seconds`` or enough rows. The rate is the sample's rows over its elapsed time."""
    src, dst = conns
    size = max(1, batch_size)
    limit = min(
        t.rows,
        max(SAMPLE_ROWS, min(SAMPLE_BATCHES * size, MAX_SAMPLE_ROWS)),
        _share(t.rows),
    )
    if t.csv is not None and t.key:  # CSV moves fast: SAMPLE_ROWS show its steady state
        limit = min(limit, SAMPLE_ROWS)
        size = max(1, min(size, limit // SAMPLE_BATCHES))
    rows: list[Any] = []
    if limit == 0:
        return Sample(rows, 0.0, 0.0, 0)
    if attachable(t, source, target):  # cheap per row: a longer sample, as time allows
        # (fewer rows miss the cost of the WAL's checkpoints, which a long copy pays)
        sizes = (size, min(t.rows, MAX_SAMPLE_ROWS, _share(t.rows)))
        return _sample_attached(t, source, target, conns, sizes, seconds, keyed)
    if streams(t, upsert=False):  # as the copy streams it
        return _sample_streamed(t, source, target, conns, (size, limit), seconds, keyed)
    scratch = _Scratch(t, target, dst, keyed)
    started = time.perf_counter()
    read = [0.0]

    def produce() -> Iterator[Batch]:
        offset, after = 0, None
        while offset < limit and time.perf_counter() - started < seconds:
            began = time.perf_counter()
            if t.csv is not None and t.key:  # as the copy reads it: CSV the source spells
                wanted = min(size, limit - offset)
                text, count, after = _read_csv(t, source, src, (offset, after), wanted)
                read[0] += time.perf_counter() - began
                if not count or text is None:
                    return
                offset += count
                yield Batch(None, count, False, text=text)
                if count < wanted:  # the table's last rows
                    return
                continue
            found = _read(t, source, src, (offset, after), min(size, limit - offset))
            converted = convert_rows(found, t.converters)
            read[0] += time.perf_counter() - began
            if not found:
                return
            offset += len(found)
            after = found[-1][t.key_index[0]] if len(t.key) == 1 else None
            rows.extend(found[: max(0, PROFILE_ROWS - len(rows))])
            yield Batch(None, len(found), False, rows=converted)

    write, done, first, final, last = 0.0, 0, 0.0, 0.0, 0
    try:
        for batch in run_ahead(produce(), "source", source.translate):
            began = time.perf_counter()
            first, final, last = first or began, began, batch.count
            done += batch.count
            scratch.write(batch, done)
            write += time.perf_counter() - began
        ended = time.perf_counter()
    finally:
        scratch.drop()
    # The pipe is full from the first batch's write on: each write, with the next batch's
    # read beside it, is a step of a long copy, in which a copy spends almost all its time.
    # The last write has no read beside it: the steps are timed up to its start.
    elapsed = (final - first) * done / (done - last) if final > first else ended - started
    if t.csv is not None and t.key:
        rows = _read(t, source, src, (0, None), _profiled(done)) if done else []
        return Sample(rows, read[0], write, done, elapsed, read_rows=done)
    return Sample(rows[: _profiled(done)], read[0], write, done, elapsed, read_rows=done)


def _share(rows: int) -> int:
    return max(MIN_SAMPLE_ROWS, int(rows * SAMPLE_SHARE))


def _profiled(sampled: int) -> int:
    """How many of a sample's first rows are profiled: reading and profiling them again
    costs more per row than copying them."""
    return min(sampled, PROFILE_ROWS, max(SIZED_ROWS, sampled // 4))


SAMPLED = "ms_sampled"  # the name the source is attached under while it is sampled


def _sample_attached(
    t: TablePlan,
    source: Connector,
    target: Connector,
    conns: tuple[Any, Any],
    sizes: tuple[int, int],
    seconds: float,
    keyed: bool,
) -> Sample:
    """As the copy does it between engines that attach (``batches.attachable``): each batch
    one INSERT ... SELECT from the attached source, committed with its checkpoint; no row
    passes through Python, so the rates are the statements'. Profiled on its first rows."""
    src, dst = conns
    size, limit = sizes
    scratch = _Scratch(t, target, dst, keyed)
    keys = ", ".join(source.quote(k) for k in t.key)
    names = ", ".join(target.quote(c) for c in t.target_columns)
    table = f"{SAMPLED}.{t.source_from}"
    done, after, started = 0, None, time.perf_counter()
    target.attach(dst, source, SAMPLED)
    try:
        while done < limit and time.perf_counter() - started < seconds:
            # as the copy: the batch's last key by an index scan, then the rows up to it
            conds = [f"({t.where})"] if t.where else []
            marks = ", ".join("?" for _ in t.key)
            params: list[Any] = list(after or ())
            if after is not None:
                conds.append(f"({keys}) > ({marks})")
            where = f" WHERE {' AND '.join(conds)}" if conds else ""
            count = min(size, limit - done)
            last = dst.execute(
                f"SELECT {keys} FROM {table}{where} ORDER BY {keys} "
                f"LIMIT 1 OFFSET {int(count) - 1}",
                params,
            ).fetchone()
            bound = f"({keys}) <= ({marks})" if last is not None else None
            upto = f"{where} {'AND' if conds else 'WHERE'} {bound}" if bound else where
            select = f"SELECT {', '.join(t.reads)} FROM {table}{upto}"
            written = scratch.insert_select(
                f"INSERT INTO {scratch.table} ({names}) {select}",
                params + list(last or ()),
                done,
            )
            if not written:
                break
            done += written
            if last is None:
                break
            after = tuple(last)
        ended = time.perf_counter()
    finally:
        scratch.drop()
        dst.execute(f"DETACH DATABASE {SAMPLED}")
    return _one_rate(t, source, src, done, ended - started)


def _sample_streamed(
    t: TablePlan,
    source: Connector,
    target: Connector,
    conns: tuple[Any, Any],
    sizes: tuple[int, int],
    seconds: float,
    keyed: bool,
) -> Sample:
    """As the copy does it between engines that stream (``batches.RangeCopier.streams``):
    each batch the source's COPY TO piped into the target's COPY FROM, committed with its
    checkpoint; both servers work at once, so one rate for reading and writing."""
    src, dst = conns
    size, limit = sizes
    scratch = _Scratch(t, target, dst, keyed)
    done, started = 0, time.perf_counter()
    try:
        while done < limit and time.perf_counter() - started < seconds:
            count = min(size, limit - done)
            select = f"SELECT {t.streamed_reads} FROM ({_first(t, source, done, count)}) ms_s"
            written = scratch.stream(source, src, select, done)
            done += written
            if written < count:
                break
        ended = time.perf_counter()
    finally:
        src.rollback()
        scratch.drop()
    return _one_rate(t, source, src, done, ended - started)


def _one_rate(t: TablePlan, source: Connector, src: Any, done: int, took: float) -> Sample:
    """A sample whose every batch was one statement reading and writing at once, with no
    pipeline to fill: one rate for reading, writing and in all; its first rows profiled."""
    rows = _read(t, source, src, (0, None), _profiled(done)) if done else []
    return Sample(rows, took, took, done, took, read_rows=done)


def _first(t: TablePlan, source: Connector, offset: int, size: int) -> str:
    """The table's rows ``offset`` to ``offset + size`` in key order, every column."""
    where = f" WHERE {t.where}" if t.where else ""
    order = ", ".join(source.quote(k) for k in t.key)
    return (
        f"SELECT * FROM {t.source_from}{where} ORDER BY {order} "
        f"LIMIT {int(size)} OFFSET {int(offset)}"
    )


def _read_csv(
    t: TablePlan, source: Connector, conn: Any, at: tuple[int, Any], size: int
) -> tuple[bytes | None, int, Any]:
    """The next ``size`` rows in key order, as the copy reads them as CSV; and the last key
    read. A single key is read as the copy reads it: the batch's last key by an index scan,
    then the rows up to it (a third less of the source's time than a batch by offset)."""
    assert t.csv is not None
    offset, after = at
    select = source.csv_select(t.csv.fields)
    try:
        if len(t.key) != 1:
            inner = _first(t, source, offset, size)
            return (*source.read_csv(conn, f"SELECT {select} FROM ({inner}) ms_s", []), None)
        key = source.quote(t.key[0])
        conditions, params = _past(t, source, after)
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT {key} FROM {t.source_from}{_where(conditions)} ORDER BY {key} "
            f"LIMIT 1 OFFSET {size - 1}",
            params,
        )
        found = cursor.fetchone()
        if found is not None:
            conditions, params = (
                [*conditions, f"{key} <= {source.placeholder}"],
                [*params, found[0]],
            )
        rows = f"SELECT {select} FROM {t.source_from}{_where(conditions)}"
        text, count = source.read_csv(conn, rows, params)
        return text, count, found[0] if found is not None else None
    finally:
        conn.rollback()


def _read(t: TablePlan, source: Connector, conn: Any, at: tuple[int, Any], size: int) -> list[Any]:
    """The next ``size`` rows in key order: after the last key read, as the copy reads them
    (a table keyed by several columns, or none: by offset)."""
    offset, after = at
    conditions, params = _past(t, source, after)
    if params:  # read past the last key, not by offset
        offset = 0
    sql = f"SELECT {', '.join(t.reads)} FROM {t.source_from}{_where(conditions)}"
    if t.key:
        sql += f" ORDER BY {', '.join(source.quote(k) for k in t.key)}"
    sql += f" LIMIT {int(size)}" + (f" OFFSET {int(offset)}" if offset else "")
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        conn.rollback()


def _past(t: TablePlan, source: Connector, after: Any) -> tuple[list[str], list[Any]]:
    """The conditions, and their parameters, of a table's rows (within its ``where``) past
    ``after``, the last value read of its single key (None: from the first row)."""
    conditions = [f"({t.where})"] if t.where else []
    if len(t.key) == 1 and after is not None:
        return [*conditions, f"{source.quote(t.key[0])} > {source.placeholder}"], [after]
    return conditions, []


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


class _Scratch:
    """A table with the target's columns, and its primary key where the copy writes rows
    into a table that has one; a checkpoint table; both dropped after."""

    def __init__(self, t: TablePlan, target: Connector, conn: Any, keyed: bool) -> None:
        self.t, self.target, self.conn = t, target, conn
        self.name = f"moonshift_sample_{uuid.uuid4().hex[:8]}"
        self.table, self.book = target.quote(self.name), target.quote(f"{self.name}_at")
        columns = ", ".join(f"{target.quote(c.target)} {c.target_spelled}" for c in t.written)
        key = ", ".join(target.quote(k) for k in t.target_key)
        primary = f", PRIMARY KEY ({key})" if key and keyed else ""
        self._run(
            f"CREATE TABLE {self.table} ({columns}{primary})",
            f"CREATE TABLE {self.book} (id INTEGER PRIMARY KEY, done INTEGER)",
            f"INSERT INTO {self.book} VALUES (1, 0)",
        )

    def write(self, batch: Batch, done: int) -> None:
        cursor = self.conn.cursor()
        self.target.begin(self.conn)
        cursor.execute("SAVEPOINT ms_batch")
        columns = self.t.target_columns
        if batch.text is not None and self.t.csv is not None:
            loads = self.t.csv.loads
            self.target.write_csv(self.conn, self.name, columns, loads, batch.text, batch.count)
        else:
            self.target.write_rows(cursor, self.name, columns, batch.rows or [])
        self._checkpoint(done)

    def stream(self, source: Connector, source_conn: Any, select: str, done: int) -> int:
        """One streamed COPY of ``select`` and the checkpoint, in one transaction; the
        rows written."""
        self.target.begin(self.conn)
        written, _ = self.target.copy_from(
            source,
            source_conn,
            select,
            self.conn,
            self.name,
            self.t.target_columns,
            stop=lambda: False,
            copy_format=self.t.copy_format,
        )
        self._checkpoint(done + written)
        return written

    def insert_select(self, sql: str, params: list[Any], done: int) -> int:
        """One INSERT ... SELECT and the checkpoint, in one transaction; the rows written."""
        cursor = self.conn.cursor()
        self.target.begin(self.conn)
        cursor.execute(sql, params)
        written = int(cursor.rowcount)
        self._checkpoint(done + written)
        return written

    def _checkpoint(self, done: int) -> None:
        """The batch's checkpoint, in its transaction, which it commits."""
        self.conn.cursor().execute(f"UPDATE {self.book} SET done = {int(done)} WHERE id = 1")
        self.conn.commit()

    def drop(self) -> None:
        self.conn.rollback()
        self._run(f"DROP TABLE {self.table}", f"DROP TABLE {self.book}")

    def _run(self, *statements: str) -> None:
        cursor = self.conn.cursor()
        self.target.begin(self.conn)
        for sql in statements:
            cursor.execute(sql)
        self.conn.commit()


def _estimate(t: TablePlan, sample: Sample) -> dict[str, Any]:
    read = sample.read_rows if sample.read_rows is not None else len(sample.rows)
    read_rate = read / sample.read_seconds if sample.read_seconds > 0 else None
    write_rate = sample.written / sample.write_seconds if sample.write_seconds > 0 else None
    seconds = t.rows * sample.elapsed / sample.written if sample.written else 0.0
    sized = sample.rows[:SIZED_ROWS]
    per_row = sum(_size(v) for row in sized for v in row) / len(sized) if sized else 0.0
    return {
        "table": t.source,
        "rows": t.rows,
        "sample_rows": read,
        "read_rows_per_second": round(read_rate, 1) if read_rate else None,
        "write_rows_per_second": round(write_rate, 1) if write_rate else None,
        "seconds": round(seconds, 6),  # a small table takes well under a millisecond
        "target_bytes": int(t.rows * (per_row + ROW_OVERHEAD)),
    }


def _size(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, bool | int | float):
        return 8
    return len(str(value).encode())


def profile(columns: tuple[str, ...], rows: list[Any], total: int) -> dict[str, Any]:
    """Per column, from a sample of ``total`` rows: null fraction, an estimate of distinct
    values (Charikar's GEE, scaled to ``total``), min and max, text lengths, top values."""
    found: dict[str, Any] = {"sample_rows": len(rows), "columns": {}}
    for index, name in enumerate(columns):
        values = [row[index] for row in rows]
        present = [v for v in values if v is not None]
        shown = [comparable(v) for v in present]
        counts = Counter(shown)
        lengths = sorted(len(s) for s in shown)
        found["columns"][name] = {
            "null_fraction": round(1 - len(present) / len(values), 4) if values else None,
            "distinct_estimate": _distinct(counts, len(values), total),
            "min": _extreme(present, min),
            "max": _extreme(present, max),
            "length": {
                "min": lengths[0],
                "median": lengths[len(lengths) // 2],
                "p95": lengths[int(len(lengths) * 0.95) - 1 if len(lengths) > 1 else 0],
                "max": lengths[-1],
            }
            if lengths
            else None,
            "top": [[v, n] for v, n in counts.most_common(TOP_VALUES) if n > 1],
        }
    return found


def _distinct(counts: Counter[str], sampled: int, total: int) -> int:
    if not sampled:
        return 0
    once = sum(1 for n in counts.values() if n == 1)
    scale = (total / sampled) ** 0.5 if total > sampled else 1.0
    return min(total, round(scale * once + (len(counts) - once)))


def _extreme(values: list[Any], pick: Any) -> str | None:
    try:
        return comparable(pick(values)) if values else None
    except TypeError:  # values of mixed types (SQLite): compare their text
        return str(pick(comparable(v) for v in values))
