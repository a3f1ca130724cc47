"""The statistical perspective: per-column profiles of both sides compared, within a
tolerance per column (``validation.statistical``).

Per table its rows; per column its NULLs and, by family, what both engines compute alike:
integers their min, max, sum, distinct values and a histogram of ``buckets`` equal ranges;
decimals and floats their min, max and sum (floats within 1e-9, or 1e-6 for 32-bit ones;
SQLite's sums, which it keeps as REALs, within 1e-12); dates and timestamps their min, max
and distinct values, through the row-level perspective's canonical forms; text the sum of
its lengths in characters. Nothing that depends on a collation (text min, max or
distinct) is compared."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.types import Family, SqlType
from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.validation.normalize import fixed_char
from moonshift.validation.rows import Reader, TableCompare, compare_of
from moonshift.validation.subject import Subject

F = Family
_LENGTH = {"postgresql": "char_length({})", "mysql": "CHAR_LENGTH({})", "sqlite": "length({})"}
_SUM = {"postgresql": "SUM({})", "mysql": "SUM({})", "sqlite": "TOTAL({})"}
_BUCKET = {
    "postgresql": "(({})::bigint - {lo}) * {n} / ({span})",
    "mysql": "(({}) - {lo}) * {n} DIV ({span})",
    "sqlite": "CAST((({}) - {lo}) * {n} / ({span}) AS INTEGER)",
}
_EXACT_SPAN = 2**52  # a histogram's arithmetic stays exact on every engine below this
_STATS: dict[Family, tuple[str, ...]] = {
    F.INT: ("min", "max", "sum", "distinct"),
    F.DECIMAL: ("min", "max", "sum"),
    F.FLOAT: ("min", "max", "sum"),
    F.DATE: ("min", "max", "distinct"),
    F.TIMESTAMP: ("min", "max", "distinct"),
    F.TIMESTAMPTZ: ("min", "max", "distinct"),
    F.TEXT: ("length",),
}
_NUMBERS = (F.INT, F.DECIMAL, F.FLOAT)


class Statistical:
    name = "statistical"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        counts = Counter[str]()
        existing = set(subject.target.read_schema().tables)
        for plan in subject.plan.tables:
            if plan.target not in existing:
                continue  # structural and row-level name it
            subject.heartbeat()
            table = compare_of(plan, subject)
            profile = _Profile(subject, table, findings)
            profile.run()
            counts["tables"] += 1
            counts["columns"] += len(table.names)
            counts["statistics"] += profile.compared
        summary = f"{counts['tables']} tables, {counts['statistics']} statistics compared"
        return findings.result(self.name, summary, dict(counts))


def _family(source: SqlType | None, target: SqlType | None) -> Family | None:
    if source is None or target is None or source.family is not target.family:
        return None
    if source.family is F.TEXT and (fixed_char(source) or fixed_char(target)):
        return None
    return source.family if source.family in _STATS else None


class _Profile:
    def __init__(self, subject: Subject, table: TableCompare, findings: Findings) -> None:
        self.subject, self.t, self.findings = subject, table, findings
        self.compared = 0
        self.columns = [
            (i, family)
            for i, (s, t) in enumerate(table.types)
            if (family := _family(s, t)) is not None and self._plain(i)
        ]

    def _plain(self, index: int) -> bool:
        column = self.t.plan.written[index]
        source = self.subject.source
        plain = column.source is not None and column.read == source.quote(column.source)
        target_type = self.t.types[index][1]
        return plain and not (target_type is not None and target_type.read)

    def run(self) -> None:
        src = self._side(self.t.source, 0)
        tgt = self._side(self.t.target, 1)
        self._compare("rows", src.pop("rows"), tgt.pop("rows"), None, 0.0)
        for (index, family), key in ((c, f"{c[0]}") for c in self.columns):
            for stat in ("nulls", *_STATS[family]):
                name = f"{key}.{stat}"
                self._compare(
                    stat,
                    src[name],
                    tgt[name],
                    (index, family),
                    self._tolerance(index, family, stat),
                )
        for index, family in self.columns:
            if family is F.INT:
                self._histogram(index, src, tgt)

    # -- one side's profile ---------------------------------------------------------------

    def _side(self, reader: Reader, which: int) -> dict[str, Any]:
        side = reader.side
        engine = side.connector.engine
        parts = ["COUNT(*)"]
        names = ["rows"]
        for index, family in self.columns:
            expr = self._expr(which, index)
            parts.append(f"COUNT(*) - COUNT({expr})")
            names.append(f"{index}.nulls")
            for stat in _STATS[family]:
                parts.append(_stat_sql(engine, stat, expr))
                names.append(f"{index}.{stat}")
        found = dict(
            zip(
                names,
                _one_row(side.connector, side.name, side.table, parts, side.where),
                strict=True,
            )
        )
        for index, family in self.columns:
            if family not in _NUMBERS and "min" in _STATS[family]:
                for stat in ("min", "max"):
                    name = f"{index}.{stat}"
                    found[name] = self._canonical(reader, index, found[name])
        return found

    def _expr(self, which: int, index: int) -> str:
        column = self.t.plan.written[index]
        if which == 0:
            return column.read
        return self.subject.target.quote(column.target)

    def _canonical(self, reader: Reader, index: int, value: Any) -> str | None:
        if value is None:
            return None
        text = reader.side.canon[index](value)
        norm = reader.norms[index]
        return norm(text) if norm else str(text)

    # -- comparing ------------------------------------------------------------------------

    def _tolerance(self, index: int, family: Family, stat: str) -> float:
        spec = self.subject.spec.validation_spec.statistical
        column = self.t.names[index]
        tolerance = spec.tolerance_of(self.t.plan.target, column)
        if family is F.FLOAT:
            bits32 = any(t is not None and t.bits == 32 for t in self.t.types[index])
            tolerance = max(tolerance, 1e-6 if bits32 else 1e-9)
        engines = {self.subject.source.engine, self.subject.target.engine}
        if (stat == "sum" and "sqlite" in engines) or (family is F.DECIMAL and "sqlite" in engines):
            tolerance = max(tolerance, 1e-12)
        return tolerance

    def _compare(
        self, stat: str, a: Any, b: Any, column: tuple[int, Family] | None, tolerance: float
    ) -> None:
        self.compared += 1
        if _same(a, b, tolerance):
            return
        where = f"column {self.t.names[column[0]]}: " if column else ""
        allowed = f" (tolerance {tolerance:g})" if tolerance else ""
        mine, theirs = _shown(a), _shown(b)
        if column and stat in ("min", "max"):  # values of a redacted column stay masked
            name = self.t.source_names[column[0]]
            mine = self.subject.shown(self.t.plan.source, name, mine)
            theirs = self.subject.shown(self.t.plan.source, name, theirs)
        self.findings.add(
            Divergence(
                table=self.t.plan.target,
                kind="changed",
                what=f"{where}{stat} {mine} in the source, {theirs} in the target{allowed}",
                source={"statistic": stat, "value": mine},
                target={"statistic": stat, "value": theirs},
            )
        )

    def _histogram(self, index: int, src: dict[str, Any], tgt: dict[str, Any]) -> None:
        low, high = src[f"{index}.min"], src[f"{index}.max"]
        if low is None or high is None or int(high) - int(low) >= _EXACT_SPAN:
            return
        buckets = self.subject.spec.validation_spec.statistical.buckets
        ours = self._buckets(self.t.source, 0, index, int(low), int(high), buckets)
        theirs = self._buckets(self.t.target, 1, index, int(low), int(high), buckets)
        tolerance = self._tolerance(index, F.INT, "histogram")
        for bucket in sorted(set(ours) | set(theirs)):
            self._compare(
                f"histogram bucket {bucket} of {buckets}",
                ours.get(bucket, 0),
                theirs.get(bucket, 0),
                (index, F.INT),
                tolerance,
            )

    def _buckets(
        self, reader: Reader, which: int, index: int, low: int, high: int, n: int
    ) -> dict[int, int]:
        side = reader.side
        expr = self._expr(which, index)
        bucket = _BUCKET[side.connector.engine].format(expr, lo=low, n=n, span=high - low + 1)
        conditions = [f"{expr} IS NOT NULL"] + ([f"({side.where})"] if side.where else [])
        sql = (
            f"SELECT {bucket}, COUNT(*) FROM {side.table} WHERE {' AND '.join(conditions)} "
            "GROUP BY 1"
        )
        conn = connect(side.connector, side.name)
        try:
            cursor = conn.cursor()
            cursor.execute(sql)
            return {int(b): int(c) for b, c in cursor.fetchall()}
        finally:
            conn.rollback()
            conn.close()


def _stat_sql(engine: str, stat: str, expr: str) -> str:
    if stat == "sum":
        return _SUM[engine].format(expr)
    if stat == "length":
        return _SUM[engine].format(_LENGTH[engine].format(expr))
    if stat == "distinct":
        return f"COUNT(DISTINCT {expr})"
    return f"{stat.upper()}({expr})"


def _one_row(
    connector: Connector, name: str, table: str, parts: list[str], where: str | None
) -> Any:
    sql = f"SELECT {', '.join(parts)} FROM {table}" + (f" WHERE {where}" if where else "")
    conn = connect(connector, name)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchone()
    finally:
        conn.rollback()
        conn.close()


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _same(a: Any, b: Any, tolerance: float) -> bool:
    x, y = _number(a), _number(b)
    if x is None or y is None or not (x.is_finite() and y.is_finite()):
        return _shown(a) == _shown(b)
    if tolerance == 0:
        return x == y
    return abs(x - y) <= Decimal(str(tolerance)) * max(abs(x), abs(y))


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    number = _number(value)
    if number is not None and number.is_finite():
        return format(number.normalize(), "f") if number != 0 else "0"
    return str(value)
