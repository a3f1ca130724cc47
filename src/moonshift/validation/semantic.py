"""The semantic perspective: the spec's business rules (``validation.rules``), each an SQL
query whose first value is checked: on the target against ``expect``, or on both sides
against each other (``compare: source``), numbers within a relative ``tolerance``."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from moonshift.connectors.base import Connector, connect
from moonshift.connectors.values import comparable
from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.domain.validation_spec import RuleSpec
from moonshift.errors import first_line
from moonshift.validation.subject import Subject


class Semantic:
    name = "semantic"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        counts = Counter[str]()
        for rule in subject.spec.validation_spec.rules:
            subject.heartbeat()
            counts["rules"] += 1
            problem = _check(subject, rule)
            if problem is not None:
                findings.add(problem)
        summary = f"{counts['rules']} rules" if counts else "no rules in validation.rules"
        return findings.result(self.name, summary, dict(counts))


def _check(subject: Subject, rule: RuleSpec) -> Divergence | None:
    try:
        got = first_value(subject.target, "target", rule.sql)
        if rule.compare == "source":
            want = first_value(subject.source, "source", rule.source_sql or rule.sql)
            against = "the source's"
        else:
            want, against = rule.expect, "expected"
    except QueryFailed as exc:
        return Divergence(table="*", kind="failed", what=f"rule {rule.name}: {exc}")
    if same(want, got, rule.tolerance):
        return None
    allowed = f" (tolerance {rule.tolerance:g})" if rule.tolerance else ""
    return Divergence(
        table="*",
        kind="broken",
        what=f"rule {rule.name}: {text(got)} on the target, {text(want)} {against}{allowed}",
        source={"rule": rule.name, "value": text(want)},
        target={"rule": rule.name, "value": text(got)},
    )


class QueryFailed(Exception):
    """A rule's or a query's SQL that a database refused."""


def rows_of(connector: Connector, side: str, sql: str) -> list[tuple[Any, ...]]:
    conn = connect(connector, side)
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(sql)
            return [tuple(r) for r in cursor.fetchall()]
        except Exception as exc:
            raise QueryFailed(f"the {side} refused it: {first_line(exc)}") from None
    finally:
        conn.rollback()
        conn.close()


def first_value(connector: Connector, side: str, sql: str) -> Any:
    rows = rows_of(connector, side, sql)
    return rows[0][0] if rows and rows[0] else None


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def same(a: Any, b: Any, tolerance: float) -> bool:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return text(a) == text(b)
    return abs(x - y) <= Decimal(str(tolerance)) * max(abs(x), abs(y))


def text(value: Any) -> str | None:
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return "0" if number == 0 else format(number.normalize(), "f")
    return str(comparable(value))
