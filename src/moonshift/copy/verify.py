"""Counting and checksumming a copied table on both sides, the same way on every engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Column, Connector, Table
from moonshift.connectors.types import UnknownTypeError
from moonshift.connectors.values import Convert, decoder, row_digest
from moonshift.copy.plan import CopyPlan

FETCH = 10_000
CHECKSUM_BITS = 128


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


def checksum(
    connector: Connector, table: Table, columns: tuple[str, ...], where: str | None
) -> tuple[int, str]:
    """(rows, checksum): the sum of every row's 128-bit digest, so row order does not matter
    and two engines that hold the same values agree."""
    decoders = [_decoder(connector, table.column(name)) for name in columns]
    q = connector.quote
    sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table.name)}"
    sql += f" WHERE {where}" if where else ""
    conn = connector.connect()
    total, count = 0, 0
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                values: list[Any] = [d(v) if d else v for d, v in zip(decoders, row, strict=True)]
                total = (total + row_digest(values)) % (1 << CHECKSUM_BITS)
                count += 1
    finally:
        conn.close()
    return count, f"{total:032x}"


def _decoder(connector: Connector, column: Column) -> Convert | None:
    try:
        return decoder(connector.engine, connector.parse_type(column))
    except UnknownTypeError:
        return None  # a type only its own engine has: compared as the driver gives it


def verify(plan: CopyPlan, source: Connector, target: Connector) -> list[TableCheck]:
    """Every table of the plan, counted and checksummed on both sides."""
    sources, targets = source.read_schema().tables, target.read_schema().tables
    checks = []
    for t in plan.tables:
        src_rows, src_sum = checksum(source, sources[t.source], t.source_columns, t.where)
        if t.target in targets:
            dst_rows, dst_sum = checksum(target, targets[t.target], t.target_columns, None)
        else:
            dst_rows, dst_sum = 0, f"{0:032x}"
        checks.append(TableCheck(t.target, src_rows, dst_rows, src_sum, dst_sum))
    return checks
