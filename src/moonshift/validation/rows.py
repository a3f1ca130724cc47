"""The row-level perspective: every row of every copied table, matched by key on both
sides, with type-aware normalization (``validation.normalize``) so equal values never differ.

A table whose first key column is an integer is split into key ranges. Where both engines
can checksum a range themselves (``validation.checksums``) each side sums the hashes of its
rows' normalized text per range in one query, and only the ranges whose counts or sums
differ are split again (bisection) until a range holds at most ``validation.leaf_rows``
rows; those are read and compared row by row. Where they cannot, ranges of ``CHUNK_ROWS``
rows are read and compared row by row. A table with another key is compared row by row in
one pass (moonshift holds its keys' digests); a table without a key as a multiset of rows.
A divergence names the key and both sides' values: missing (only in the source), extra
(only in the target) or changed (the columns that differ)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Column, Connector, connect
from moonshift.connectors.types import SqlType
from moonshift.connectors.values import row_digest
from moonshift.copy.plan import ColumnPlan, TablePlan
from moonshift.copy.verify import Side, sides
from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.validation import checksums
from moonshift.validation.normalize import Norm, column_norm
from moonshift.validation.subject import Subject

CHUNK_ROWS = 50_000  # rows read per key range where the engines cannot checksum
FETCH = 10_000
BITS = 128
Row = tuple[str, ...]


@dataclass(frozen=True)
class Reader:
    """One side of one table, read as normalized canonical text."""

    side: Side
    keys: tuple[str, ...]  # the key columns' SQL on this side
    norms: tuple[Norm | None, ...]
    tick: Callable[[], None]  # between batches: the run's heartbeat

    def rows(self, low: int | None = None, high: int | None = None) -> Iterator[Row]:
        """Every row (within [low, high) of the first key column), normalized."""
        s = self.side
        conditions = [f"({s.where})"] if s.where else []
        params: list[Any] = []
        if low is not None and high is not None:
            mark = s.connector.placeholder
            conditions += [f"{self.keys[0]} >= {mark}", f"{self.keys[0]} < {mark}"]
            params += [low, high]
        sql = f"SELECT {', '.join(s.columns)} FROM {s.table}"
        sql += " WHERE " + " AND ".join(conditions) if conditions else ""
        conn = connect(s.connector, s.name)
        try:
            cursor = conn.cursor()
            cursor.execute(sql, params) if params else cursor.execute(sql)
            while batch := cursor.fetchmany(FETCH):
                self.tick()
                for raw in batch:
                    values = [c(v) for c, v in zip(s.canon, raw, strict=True)]
                    yield tuple(n(v) if n else v for n, v in zip(self.norms, values, strict=True))
        finally:
            conn.close()

    def bounds(self) -> tuple[int, int] | None:
        s = self.side
        sql = f"SELECT MIN({self.keys[0]}), MAX({self.keys[0]}) FROM {s.table}"
        sql += f" WHERE {s.where}" if s.where else ""
        conn = connect(s.connector, s.name)
        try:
            cursor = conn.cursor()
            cursor.execute(sql)
            low, high = cursor.fetchone()
        finally:
            conn.close()
        return None if low is None else (int(low), int(high))


@dataclass(frozen=True)
class TableCompare:
    plan: TablePlan
    source: Reader
    target: Reader
    key_index: tuple[int, ...]
    names: tuple[str, ...]  # target column names, in the order read
    source_names: tuple[str, ...]
    types: tuple[tuple[SqlType | None, SqlType | None], ...]  # (source, target) per column


class RowLevel:
    name = "row_level"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        counts = Counter[str]()
        tables: dict[str, dict[str, str | int]] = {}
        existing = set(subject.target.read_schema().tables)
        for plan in subject.plan.tables:
            if plan.target not in existing:
                findings.add(Divergence(table=plan.target, kind="missing", what="no such table"))
                continue
            table = _TableRun(subject, compare_of(plan, subject), findings)
            tables[plan.target] = table.run()
            counts["tables"] += 1
            counts["source_rows"] += table.source_rows
            counts["target_rows"] += table.target_rows
            counts["ranges_checksummed"] += table.ranges
            counts["rows_compared"] += table.compared
        summary = (
            f"{counts['tables']} tables, {counts['source_rows']} source rows, "
            f"{counts['target_rows']} target rows"
        )
        return findings.result(self.name, summary, dict(counts), tables)


def compare_of(plan: TablePlan, subject: Subject) -> TableCompare:
    """How both sides of a planned table are read, normalized and matched."""
    source, target, tick = subject.source, subject.target, subject.heartbeat
    src_side, tgt_side = sides(plan, source, target)
    written = plan.written
    types = tuple(
        (
            _type(source, c, c.source_type, c.source_spelled),
            _type(target, c, c.target_type, c.target_spelled),
        )
        for c in written
    )
    norms = tuple(column_norm(s, t) for s, t in types)
    q_src, q_tgt = source.quote, target.quote
    return TableCompare(
        plan,
        Reader(src_side, tuple(q_src(k) for k in plan.key), norms, tick),
        Reader(tgt_side, tuple(q_tgt(k) for k in plan.target_key), norms, tick),
        plan.key_index,
        tuple(c.target for c in written),
        tuple(c.source or c.target for c in written),
        types,
    )


def _type(
    connector: Connector, c: ColumnPlan, given: SqlType | None, spelled: str
) -> SqlType | None:
    if given is not None:
        return given
    try:
        return connector.parse_type(Column(c.target, spelled, True))
    except Exception:  # a type of the engine's own (an enum, a domain): compared as it is
        return None


class _TableRun:
    def __init__(self, subject: Subject, table: TableCompare, findings: Findings) -> None:
        self.subject, self.t, self.findings = subject, table, findings
        self.source_rows = self.target_rows = self.ranges = self.compared = 0
        self.digest = 0

    def run(self) -> dict[str, str | int]:
        t = self.t
        if not t.key_index:
            self._multiset()
            method = "rows, as a multiset (no key)"
        elif t.plan.first_key_is_int:
            method = self._by_ranges()
        else:
            self._by_key(None, None)
            method = "rows, matched by key"
        return {
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "digest": f"{self.digest:032x}",
            "method": method,
            "rows_compared": self.compared,
        }

    # -- key ranges -------------------------------------------------------------------------

    def _by_ranges(self) -> str:
        bounds = [b for b in (self.t.source.bounds(), self.t.target.bounds()) if b]
        if not bounds:
            return "rows, matched by key"
        low, high = min(b[0] for b in bounds), max(b[1] for b in bounds) + 1
        sums = checksums.summer(self.t, self.subject)
        if sums is None:
            rows = max(self.t.plan.rows, 1)
            step = max(1, (high - low) * CHUNK_ROWS // rows)
            for start in range(low, high, step):
                self.subject.heartbeat()
                self._by_key(start, min(start + step, high))
            return "rows, matched by key per key range"
        leaf = self.subject.spec.validation_spec.leaf_rows
        pending = [(low, high)]
        top = True
        while pending:
            self.subject.heartbeat()
            split = []
            for (start, end), (src, tgt) in sums.ranges(pending).items():
                self.ranges += 1
                if top:
                    self._count_sums(src, tgt)
                if src == tgt:
                    continue
                if max(src[0], tgt[0]) <= leaf or end - start <= 1:
                    self._by_key(start, end, tally=False)
                else:
                    split.append((start, end))
            pending, top = split, False
        return "checksums of key ranges, bisected"

    def _count_sums(self, src: tuple[int, int], tgt: tuple[int, int]) -> None:
        self.source_rows += src[0]
        self.target_rows += tgt[0]
        self.digest = (self.digest + tgt[1]) % (1 << BITS)

    # -- row by row -------------------------------------------------------------------------

    def _by_key(self, low: int | None, high: int | None, *, tally: bool = True) -> None:
        t = self.t
        src = {self._key(r): r for r in t.source.rows(low, high)}
        tgt = {self._key(r): r for r in t.target.rows(low, high)}
        if tally:
            self._tally(src.values(), tgt.values())
        self.compared += len(src) + len(tgt)
        for key, row in src.items():
            other = tgt.get(key)
            if other is None:
                self._add("missing", key, row, None)
            elif other != row:
                self._add("changed", key, row, other)
        for key, row in tgt.items():
            if key not in src:
                self._add("extra", key, None, row)

    def _multiset(self) -> None:
        src = Counter(self.t.source.rows())
        tgt = Counter(self.t.target.rows())
        self._tally(src.elements(), tgt.elements())
        self.compared += sum(src.values()) + sum(tgt.values())
        for row in (src - tgt).elements():
            self._add("missing", None, row, None)
        for row in (tgt - src).elements():
            self._add("extra", None, None, row)

    def _tally(self, src: Iterable[Row], tgt: Iterable[Row]) -> None:
        self.source_rows += sum(1 for _row in src)
        for row in tgt:
            self.target_rows += 1
            self.digest = (self.digest + row_digest(row)) % (1 << BITS)

    def _key(self, row: Row) -> Row:
        return tuple(row[i] for i in self.t.key_index)

    def _add(self, kind: str, key: Row | None, src: Row | None, tgt: Row | None) -> None:
        t = self.t
        changed = (
            [n for n, a, b in zip(t.names, src, tgt, strict=True) if a != b]
            if src is not None and tgt is not None
            else []
        )
        shown_key = self._values(key, [t.names[i] for i in t.key_index]) if key else None
        where = _where(shown_key) if shown_key else "a row"
        what = {
            "missing": f"{where} is in the source only",
            "extra": f"{where} is in the target only",
            "changed": f"{where} differs in {', '.join(changed)}",
        }[kind]
        self.findings.add(
            Divergence(
                table=t.plan.target,
                kind=kind,
                what=what,
                key=shown_key,
                source=self._values(src, t.names) if src else None,
                target=self._values(tgt, t.names) if tgt else None,
            )
        )

    def _values(self, row: Sequence[str], names: Sequence[str]) -> dict[str, str | None]:
        by_target = dict(zip(self.t.names, self.t.source_names, strict=True))
        source_table = self.t.plan.source
        return {
            n: self.subject.shown(source_table, by_target[n], _shown(v))
            for n, v in zip(names, row, strict=True)
        }


def _shown(value: str) -> str | None:
    return None if value == "\\N" else value


def _where(key: dict[str, str | None]) -> str:
    return "row " + ", ".join(f"{k}={v}" for k, v in key.items())


def table_hash(table: str, facts: dict[str, str | int]) -> str:
    """A copied table's canonical hash, as a certificate names it."""
    text = f"{table}\n{facts['target_rows']}\n{facts['digest']}"
    return hashlib.sha256(text.encode()).hexdigest()
