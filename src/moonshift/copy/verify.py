"""Counting and checksumming a copied table on both sides, the same way on every engine.

Each source value goes through the pair's documented rule (``values.transform``) and each
side's value into a canonical text, so that a target holding what the rule says matches.
Between two databases of one engine, values compare as the engine's own exact text (an
enum, a range, an array of a domain). A copy whose key ranges or phases after the load
did not all finish never matches: the check names what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import (
    Convert,
    canonical,
    comparable,
    converter,
    decoder,
    row_digest,
    transform,
)
from moonshift.copy.bookkeeping import Bookkeeping
from moonshift.copy.plan import CopyPlan, TablePlan

FETCH = 10_000
CHECKSUM_BITS = 128


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str
    unfinished: tuple[str, ...] = ()  # what the latest copy did not finish for this table

    @property
    def matches(self) -> bool:
        same = (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)
        return same and not self.unfinished


@dataclass(frozen=True)
class Side:
    """How one side of a table is read for its checksum."""

    connector: Connector
    name: str  # "source" or "target"
    table: str  # FROM clause
    columns: tuple[str, ...]  # SQL per column
    canon: tuple[Convert, ...]  # driver value -> canonical text
    where: str | None = None


def checksum(side: Side) -> tuple[int, str]:
    """(rows, checksum): the sum of every row's 128-bit digest, so row order does not matter
    and two engines that hold the same values agree."""
    sql = f"SELECT {', '.join(side.columns)} FROM {side.table}"
    sql += f" WHERE {side.where}" if side.where else ""
    conn = connect(side.connector, side.name)
    total, count = 0, 0
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                values = [c(v) for c, v in zip(side.canon, row, strict=True)]
                total = (total + row_digest(values)) % (1 << CHECKSUM_BITS)
                count += 1
    finally:
        conn.close()
    return count, f"{total:032x}"


def sides(table: TablePlan, source: Connector, target: Connector) -> tuple[Side, Side]:
    """How each side of a planned table is read and made comparable."""
    q = target.quote
    columns = table.written
    if source.engine == target.engine:
        exact = [
            source.compare_sql(f"({c.read})::{cast}" if cast else c.read)
            for c, cast in zip(columns, table.casts, strict=True)
        ]
        reads = [e or c.read for e, c in zip(exact, columns, strict=True)]
        src_canon = [
            comparable if e else _decoded(source, c.source_type)
            for e, c in zip(exact, columns, strict=True)
        ]
        tgt_exact = [target.compare_sql(q(c.target)) for c in columns]
        tgt_reads = [e or q(c.target) for e, c in zip(tgt_exact, columns, strict=True)]
        tgt_canon = [
            comparable if e else _decoded(target, c.target_type)
            for e, c in zip(tgt_exact, columns, strict=True)
        ]
    else:
        reads = list(table.reads)
        src_canon = [_by_rule(source.engine, target.engine, c) for c in columns]
        tgt_reads = [
            c.target_type.read.format(q(c.target))
            if c.target_type is not None and c.target_type.read
            else q(c.target)
            for c in columns
        ]
        tgt_canon = [_decoded(target, c.target_type) for c in columns]
    return (
        Side(source, "source", table.source_from, tuple(reads), tuple(src_canon), table.where),
        Side(target, "target", table.target_from, tuple(tgt_reads), tuple(tgt_canon)),
    )


def _canon(kind: Any) -> Convert:
    return canonical(kind.family if kind is not None else None)


def _decoded(connector: Connector, kind: Any) -> Convert:
    return converter([decoder(connector.engine, kind), _canon(kind)]) or comparable


def _by_rule(source_engine: str, target_engine: str, column: Any) -> Convert:
    blank = (lambda v: None if str(v).startswith("0000-00-00") else v) if column.blank else None
    src, dst = column.source_type, column.target_type
    return (
        converter(
            [
                blank,
                decoder(source_engine, src),
                transform(src, dst, target_engine),
                _canon(dst),
            ]
        )
        or comparable
    )


def verify(
    plan: CopyPlan, source: Connector, target: Connector, book: Bookkeeping
) -> list[TableCheck]:
    """Every table of the plan, counted and checksummed on both sides, with what the
    latest copy left unfinished."""
    left = unfinished(target, book)
    existing = set(target.read_schema().tables)
    checks = []
    for t in plan.tables:
        src_side, tgt_side = sides(t, source, target)
        src_rows, src_sum = checksum(src_side)
        if t.target in existing:
            dst_rows, dst_sum = checksum(tgt_side)
        else:
            dst_rows, dst_sum = 0, f"{0:032x}"
        checks.append(
            TableCheck(
                t.target, src_rows, dst_rows, src_sum, dst_sum, tuple(left.get(t.target, ()))
            )
        )
    return checks


def unfinished(target: Connector, book: Bookkeeping) -> dict[str, list[str]]:
    """Per target table: the key ranges and phases the latest copy has not finished."""
    conn = connect(target, "target")
    try:
        try:
            ranges, phases = book.pending(conn)
        except Exception:  # no bookkeeping table: nothing was copied with moonshift yet
            return {}
    finally:
        conn.close()
    found: dict[str, list[str]] = {}
    for r in ranges:
        found.setdefault(r.table, []).append(f"rows: key range {r.range_id} did not finish")
    for p in phases:
        found.setdefault(p.table, []).append(f"phase {p} did not finish")
    if "*" in found:  # not one table's (a type): every table shows it
        for table in list(found):
            if table != "*":
                found[table] = [*found[table], *found["*"]]
    return found
