"""Counting rows over a whole table, as planning does for the values some rows may not
survive: one scan, or, for a large table keyed by one integer, a scan per key range, the
ranges at once, each on a connection of its own (a scan keeps one core of the source busy;
the copy will ask ``parallel`` of them)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

from moonshift.connectors.base import Connector, Table, connect
from moonshift.connectors.types import Family

PARALLEL_SCAN_ROWS = 200_000  # below this, one scan ends before more connections open


def key_ranges(
    source: Connector, conn: Any, table: Table, source_from: str, rows: int, parallel: int
) -> list[str | None]:
    """Conditions that split ``table`` into ``parallel`` ranges of its integer key, or
    ``[None]`` (one scan) for a small table, another key, or ``parallel: 1``."""
    if parallel < 2 or rows < PARALLEL_SCAN_ROWS or len(table.primary_key) != 1:
        return [None]
    (name,) = table.primary_key
    if source.parse_type(table.column(name)).family is not Family.INT:
        return [None]
    key = source.quote(name)
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {source_from}")
        low, high = cursor.fetchone()
    finally:
        conn.rollback()
    # SQLite stores any value under any declared type: a key holding text is scanned whole
    if not isinstance(low, int) or not isinstance(high, int) or high - low < parallel:
        return [None]
    step = (high - low) // parallel + 1
    cuts = [low + step * i for i in range(1, parallel)]
    return [
        f"{key} < {cuts[0]} OR {key} IS NULL",  # SQLite's keys may hold NULL
        *(f"{key} >= {a} AND {key} < {b}" for a, b in pairwise(cuts)),
        f"{key} >= {cuts[-1]}",
    ]


def parallel_counts(
    source: Connector, conn: Any, sql: str, wheres: list[str | None], ranges: list[str | None]
) -> list[int]:
    """The counts ``sql`` selects, summed over ``ranges``: the first on ``conn``, the others
    at the same time on connections of their own."""

    def counts(on: Any, within: str | None) -> list[int]:
        conditions = [f"({c})" for c in (*wheres, within) if c]
        cursor = on.cursor()
        try:
            cursor.execute(sql + (f" WHERE {' AND '.join(conditions)}" if conditions else ""))
            return [int(n) for n in cursor.fetchone()]
        finally:
            on.rollback()

    def aside(within: str | None) -> list[int]:
        own = connect(source, "source")
        try:
            return counts(own, within)
        finally:
            own.close()

    if len(ranges) == 1:
        return counts(conn, ranges[0])
    with ThreadPoolExecutor(len(ranges) - 1, thread_name_prefix="moonshift-scan") as pool:
        others = [pool.submit(aside, r) for r in ranges[1:]]
        found = [counts(conn, ranges[0]), *(f.result() for f in others)]
    return [sum(column) for column in zip(*found, strict=True)]
