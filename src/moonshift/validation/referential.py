"""The referential perspective: orphan rows on the target, per foreign key: the target's
own and the source's between copied tables (which the target may lack, or not enforce:
SQLite without ``PRAGMA foreign_keys``, a key dropped or never created)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import comparable
from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.validation.expected import Reference, source_references, target_references
from moonshift.validation.subject import Subject


class Referential:
    name = "referential"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        target = subject.target.read_schema()
        refs: dict[tuple[Any, ...], Reference] = {}
        wanted = source_references(subject.plan, subject.source.read_schema())
        for ref in [*target_references(subject.plan, target), *wanted]:
            if ref.table in target.tables and ref.parent in target.tables:
                refs.setdefault(ref.shape, ref)
        keys = {t.target: t.target_key for t in subject.plan.tables}
        sources = {t.target: t for t in subject.plan.tables}

        def mask(table: str, column: str, value: str | None) -> str | None:
            plan = sources.get(table)
            if plan is None:
                return value
            named = next((c.source for c in plan.columns if c.target == column), None)
            return subject.shown(plan.source, named or column, value)

        counts = Counter[str]()
        for ref in refs.values():
            subject.heartbeat()
            counts["foreign_keys"] += 1
            orphans = _orphans(subject.target, ref, keys.get(ref.table, ()), subject.limit)
            counts["orphans"] += orphans.total
            for row in orphans.rows:
                findings.add(orphans.divergence(row, mask))
            findings.found += orphans.total - len(orphans.rows)
        summary = f"{counts['foreign_keys']} foreign keys, {counts['orphans']} orphan rows"
        return findings.result(self.name, summary, dict(counts))


class _Orphans:
    def __init__(self, ref: Reference, key: tuple[str, ...], total: int, rows: list[Any]):
        self.ref, self.key, self.total, self.rows = ref, key, total, rows

    def divergence(
        self, row: Any, mask: Callable[[str, str, str | None], str | None]
    ) -> Divergence:
        ref, n = self.ref, len(self.key)
        key = {k: mask(ref.table, k, _text(v)) for k, v in zip(self.key, row[:n], strict=True)}
        values = {
            c: mask(ref.table, c, _text(v)) for c, v in zip(ref.columns, row[n:], strict=True)
        }
        where = ", ".join(f"{k}={v}" for k, v in (key or values).items())
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        return Divergence(
            table=ref.table,
            kind="orphan",
            what=f"row {where}: {shown} refers to no row of {ref.parent} ({ref})",
            key=key or None,
            target=values,
        )


def _text(value: Any) -> str | None:
    return None if value is None else comparable(value)


def _orphans(target: Connector, ref: Reference, key: tuple[str, ...], limit: int) -> _Orphans:
    q = target.quote
    child_cols = [f"c.{q(c)}" for c in ref.columns]
    join = " AND ".join(
        f"p.{q(p)} = c.{q(c)}" for c, p in zip(ref.columns, ref.parent_columns, strict=True)
    )
    where = " AND ".join(f"{c} IS NOT NULL" for c in child_cols)
    body = (
        f"FROM {q(ref.table)} c WHERE {where} AND NOT EXISTS "
        f"(SELECT 1 FROM {q(ref.parent)} p WHERE {join})"
    )
    shown = [f"c.{q(k)}" for k in key] + child_cols
    conn = connect(target, "target")
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) {body}")
        total = int(cursor.fetchone()[0])
        rows: list[Any] = []
        if total:
            cursor.execute(f"SELECT {', '.join(shown)} {body} LIMIT {int(limit)}")
            rows = list(cursor.fetchall())
    finally:
        conn.rollback()
        conn.close()
    return _Orphans(ref, key, total, rows)
