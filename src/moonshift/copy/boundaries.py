"""Where a table's key ranges split: evenly spaced values of a single integer key, or, for
any other key (text, uuid, composite), key tuples taken at even steps of an ordered sample.

A boundary is a whole key tuple, as the source's driver returns it, so ranges compare by the
engine's own ordering and collation (``(a, b) > (x, y)``) and need no arithmetic on keys.
"""

from __future__ import annotations

from typing import Any

from moonshift.connectors.base import Connector
from moonshift.copy import keys
from moonshift.copy.plan import TablePlan

# Rows ordered to find the boundaries: above this, engines that can sample (PostgreSQL's
# TABLESAMPLE SYSTEM) read about this many; the others read every key once, by the index.
SAMPLE_ROWS = 100_000


def even(low: int, high: int, count: int) -> list[tuple[Any, ...]]:
    """``count - 1`` integer boundaries between ``low`` and ``high``."""
    step = (high - low) // count + 1
    return [(low - 1 + step * i,) for i in range(1, count)]


def sampled(source: Connector, conn: Any, table: TablePlan, count: int) -> list[tuple[Any, ...]]:
    """Up to ``count - 1`` key tuples that split the table into ``count`` ranges of about
    equal rows, ascending; fewer when the sample is small, none when every key is alike."""
    q = source.quote
    names = ", ".join(q(k) for k in table.key)
    fraction = min(1.0, SAMPLE_ROWS / max(table.rows, 1))
    from_sql = source.sampled_from(table.source_from, fraction)
    seen = table.rows if from_sql == table.source_from else max(1, int(table.rows * fraction))
    step = max(1, seen // count)
    where = f" WHERE {table.where}" if table.where else ""
    sql = (
        f"SELECT {names} FROM (SELECT {names}, ROW_NUMBER() OVER (ORDER BY {names}) AS ms_n "
        f"FROM {from_sql}{where}) ms_s WHERE ms_n % {step} = 0 ORDER BY {names}"
    )
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        found = [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.rollback()
    found = found[: count - 1]
    try:
        for boundary in found:
            keys.encode(boundary)
    except TypeError:
        return []  # a key type a checkpoint cannot hold: the table is one range
    return found


def ranges(boundaries: list[tuple[Any, ...]]) -> list[tuple[str | None, str | None]]:
    """The (exclusive lower, inclusive upper) bounds, encoded, of the ranges between
    ``boundaries``: the first open below, the last open above."""
    edges: list[tuple[Any, ...] | None] = [None, *boundaries, None]
    return [(keys.encode(edges[i]), keys.encode(edges[i + 1])) for i in range(len(edges) - 1)]
