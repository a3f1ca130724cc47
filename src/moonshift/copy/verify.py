"""Counting and checksumming a copied table on both sides, the same way on every engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector
from moonshift.connectors.sql import SqlConnector
from moonshift.connectors.types import UnknownTypeError
from moonshift.connectors.values import Convert, decoder, row_digest
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

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


def checksum(
    connector: Connector, table: str, columns: tuple[str, ...], where: str | None
) -> tuple[int, str]:
    """(rows, checksum): the sum of every row's 128-bit digest, so row order does not matter
    and two engines that hold the same values agree."""
    assert isinstance(connector, SqlConnector)
    schema_table = connector.read_schema().tables[table]
    decoders: list[Convert | None] = []
    for name in columns:
        try:
            decoders.append(
                decoder(connector.engine, connector.parse_type(schema_table.column(name)))
            )
        except UnknownTypeError:
            decoders.append(None)
    q = connector.quote
    sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table)}" + (
        f" WHERE {where}" if where else ""
    )
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


def verify(plan: CopyPlan, source: Connector, target: Connector) -> list[TableCheck]:
    return [_check(t, source, target) for t in plan.tables]


def _check(table: TablePlan, source: Connector, target: Connector) -> TableCheck:
    src_rows, src_sum = checksum(source, table.source, table.source_columns, table.where)
    dst_rows, dst_sum = checksum(target, table.target, table.target_columns, None)
    return TableCheck(table.target, src_rows, dst_rows, src_sum, dst_sum)
