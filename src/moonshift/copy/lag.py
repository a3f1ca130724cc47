"""How far an incremental target is behind its source: rows past the watermark, and the
distance between the source's newest cursor value and the watermark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import decoder
from moonshift.copy import keys
from moonshift.copy.bookkeeping import Bookkeeping
from moonshift.copy.plan import CopyPlan


@dataclass(frozen=True)
class TableLag:
    table: str
    watermark: Any
    newest: Any
    rows_behind: int

    @property
    def distance(self) -> Any:
        if self.watermark is None or self.newest is None:
            return None
        try:
            return self.newest - self.watermark
        except TypeError:
            return None


def lag(plan: CopyPlan, source: Connector, target: Connector, book: Bookkeeping) -> list[TableLag]:
    conn = connect(target, "target")
    try:
        book.ensure(conn)
        marks = book.watermarks(conn)
    finally:
        conn.close()
    found = []
    src = connect(source, "source")
    q, p = source.quote, source.placeholder
    try:
        for table in plan.tables:
            if not table.cursor:
                continue
            mark = keys.decode(marks.get(table.target))
            watermark = mark[0] if mark else None
            column = next(c for c in table.columns if c.source == table.cursor)
            # as the source's values: a SQLite timestamp is text until decoded
            read = decoder(source.engine, column.source_type) or (lambda v: v)
            cursor = src.cursor()
            cond = [f"({table.where})"] if table.where else []
            params = []
            if watermark is not None:
                cond.append(f"{q(table.cursor)} > {p}")
                params.append(watermark)
            where = (" WHERE " + " AND ".join(cond)) if cond else ""
            cursor.execute(
                f"SELECT COUNT(*), MAX({q(table.cursor)}) FROM {table.source_from}{where}", params
            )
            behind, newest = cursor.fetchone()
            src.rollback()
            newest = watermark if newest is None else newest
            found.append(TableLag(table.target, read(watermark), read(newest), int(behind)))
    finally:
        src.close()
    return found
