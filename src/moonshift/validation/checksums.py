"""Checksums of key ranges computed by the databases themselves (PostgreSQL, MariaDB/MySQL):
per range, the count of rows and the sum of a 60-bit hash (MD5) of each row's normalized
text, built in SQL so that both engines write the same text for the same value.

Only columns whose text both engines spell alike take part (integers, decimals of one
scale, text, CHAR without its padding, booleans, dates, timestamps in UTC, enums, bytes as
hex); a table with any other column is compared row by row in ranges instead. A checksum
can only send a range to be compared row by row; it never decides that rows differ."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.types import Family, SqlType
from moonshift.validation.normalize import fixed_char as _fixed

if TYPE_CHECKING:
    from moonshift.validation.rows import TableCompare
    from moonshift.validation.subject import Subject

F = Family
BUCKETS = 32
Sums = tuple[int, int]  # rows, sum of hashes
Range = tuple[int, int]  # [start, end)

# engine -> family -> the SQL of a value's text ("{}" is the column)
_TEXT: dict[str, dict[Family, str]] = {
    "postgresql": {
        F.INT: "{}::text",
        F.DECIMAL: "{}::text",
        F.TEXT: "{}::text",
        F.ENUM: "{}::text",
        F.BOOL: "({})::int::text",
        F.DATE: "to_char({}, 'YYYY-MM-DD')",
        F.TIMESTAMP: "to_char({}, 'YYYY-MM-DD HH24:MI:SS.US')",
        F.TIMESTAMPTZ: "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        F.BYTES: "encode({}, 'hex')",
    },
    "mysql": {
        F.INT: "CAST({} AS CHAR)",
        F.DECIMAL: "CAST({} AS CHAR)",
        F.TEXT: "CONVERT({} USING utf8mb4)",
        F.ENUM: "CONVERT({} USING utf8mb4)",
        F.BOOL: "CAST({} AS CHAR)",
        # (%% as the driver's parameters need it)
        F.DATE: "DATE_FORMAT({}, '%%Y-%%m-%%d')",
        F.TIMESTAMP: "DATE_FORMAT({}, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')",
        F.TIMESTAMPTZ: "DATE_FORMAT({}, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')",
        F.BYTES: "LOWER(HEX({}))",
    },
}
_TRIM = {"postgresql": "rtrim({}, ' ')", "mysql": "RTRIM({})"}
_ROW = {
    "postgresql": "COALESCE({}, chr(30))",
    "mysql": "COALESCE({}, CHAR(30 USING utf8mb4))",
}
_JOIN = {"postgresql": "concat_ws(chr(31), {})", "mysql": "CONCAT_WS(CHAR(31 USING utf8mb4), {})"}
_HASH = {
    "postgresql": "('x' || substr(md5({}), 1, 15))::bit(60)::bigint",
    "mysql": "CAST(CONV(SUBSTRING(MD5({}), 1, 15), 16, 10) AS UNSIGNED)",
}
_BUCKET = {"postgresql": "({} - {}) / {}", "mysql": "({} - {}) DIV {}"}


def _families(source: SqlType | None, target: SqlType | None) -> tuple[Family, Family] | None:
    """The family each side is spelled in, when both spell their values alike."""
    if source is None or target is None:
        return None
    pair = {source.family, target.family}
    if pair == {F.BOOL, F.INT}:  # a boolean as 0 and 1 on the other side
        return source.family, target.family
    if len(pair) != 1:
        return None
    if source.family is F.DECIMAL and (source.scale is None or source.scale != target.scale):
        return None
    return source.family, target.family


def _value_sql(engine: str, family: Family, column: str, fixed: bool) -> str:
    text = _TEXT[engine][family].format(column)
    return _TRIM[engine].format(text) if fixed else text


class Summer:
    """Checksums of key ranges on both sides of one table."""

    def __init__(self, table: TableCompare, row_sql: tuple[str, str]) -> None:
        self.t = table
        self.row_sql = row_sql

    def ranges(self, pending: Sequence[Range]) -> dict[Range, tuple[Sums, Sums]]:
        """Each range split into up to BUCKETS ranges, with both sides' sums."""
        found: dict[Range, tuple[Sums, Sums]] = {}
        for start, end in pending:
            width = max(1, -(-(end - start) // BUCKETS))
            with ThreadPoolExecutor(2) as both:  # each side's database works at once
                ours = both.submit(
                    self._buckets, self.t.source.side.connector, 0, start, end, width
                )
                tgt = self._buckets(self.t.target.side.connector, 1, start, end, width)
                src = ours.result()
            for bucket in sorted(set(src) | set(tgt)):
                low = start + bucket * width
                found[(low, min(low + width, end))] = (
                    src.get(bucket, (0, 0)),
                    tgt.get(bucket, (0, 0)),
                )
        return found

    def _buckets(
        self, connector: Connector, index: int, start: int, end: int, width: int
    ) -> dict[int, Sums]:
        reader = self.t.source if index == 0 else self.t.target
        side, key = reader.side, reader.keys[0]
        mark = connector.placeholder
        bucket = _BUCKET[connector.engine].format(key, mark, mark)
        conditions = [f"{key} >= {mark}", f"{key} < {mark}"]
        if side.where:
            conditions.insert(0, f"({side.where})")
        sql = (
            f"SELECT {bucket}, COUNT(*), SUM({self.row_sql[index]}) FROM {side.table} "
            f"WHERE {' AND '.join(conditions)} GROUP BY 1"
        )
        params: list[Any] = [start, width, start, end]
        conn = connect(connector, side.name)
        try:
            cursor = conn.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        finally:
            conn.close()
        return {int(b): (int(n), int(s or 0)) for b, n, s in rows}


def summer(table: TableCompare, subject: Subject) -> Summer | None:
    """A Summer where both engines can checksum every column of the table; else None."""
    source, target = subject.source, subject.target
    if source.engine not in _TEXT or target.engine not in _TEXT:
        return None
    src_values, tgt_values = [], []
    for column, (src_type, tgt_type) in zip(table.plan.written, table.types, strict=True):
        families = _families(src_type, tgt_type)
        if families is None or families[0] not in _TEXT[source.engine]:
            return None
        plain_source = column.source is not None and column.read == source.quote(column.source)
        if not plain_source or (tgt_type is not None and tgt_type.read):
            return None
        fixed = families[0] is F.TEXT and (_fixed(src_type) or _fixed(tgt_type))
        src_values.append(_value_sql(source.engine, families[0], column.read, fixed))
        tgt_values.append(
            _value_sql(target.engine, families[1], target.quote(column.target), fixed)
        )
    return Summer(table, (_row_sql(source.engine, src_values), _row_sql(target.engine, tgt_values)))


def _row_sql(engine: str, values: list[str]) -> str:
    joined = _JOIN[engine].format(", ".join(_ROW[engine].format(v) for v in values))
    if engine == "mysql":
        joined = f"CONVERT({joined} USING utf8mb4)"
    return _HASH[engine].format(joined)
