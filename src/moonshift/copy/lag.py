"""How far an incremental target is behind its source: rows past the watermark, and the
distance between the source's newest cursor value and the watermark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector
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
    conn = target.connect()
    try:
        book.ensure(conn)
        marks = book.watermarks(conn)
    finally:
        conn.close()
    found = []
    src = source.connect()
    q, p = source.quote, source.placeholder
    try:
        for table in plan.tables:
            if not table.cursor:
                continue
            mark = keys.decode(marks.get(table.target))
            watermark = mark[0] if mark else None
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
            found.append(
                TableLag(
                    table.target,
                    watermark,
                    newest if newest is not None else watermark,
                    int(behind),
                )
            )
    finally:
        src.close()
    return found
