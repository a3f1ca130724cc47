"""Risk assessment: named rules with stable ids, each finding with a severity and what to do.

Pure: ``assess`` reads the facts a plan gathered (``copy.risks`` for the databases, the
planner for the migration's schedule and dependencies) and returns findings. A rule's id never
changes once released; a new check is a new id. ``risk: {fail_on: high}`` stops a run with a
finding of that severity or above; ``risk: {ignore: [rule-id]}`` drops a rule's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import field_validator

from moonshift.domain.spec_base import Duration, SpecModel


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    remediation: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    subject: str  # the table, column or migration it is about
    message: str
    remediation: str

    def stored(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "subject": self.subject,
            "message": self.message,
            "remediation": self.remediation,
        }


RULES: Mapping[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "keyless-table",
            Severity.MEDIUM,
            "a table without a primary or unique key",
            "give it a key in copy.tables (key: [column]); without one it is copied in one "
            "transaction that cannot resume",
        ),
        Rule(
            "lossy-mapping",
            Severity.MEDIUM,
            "a column whose values may not survive the target's type",
            "cast it to a wider type in copy.tables (columns: {name: {cast: TYPE}}), or keep "
            "allow_lossy if the loss is accepted",
        ),
        Rule(
            "refused-mapping",
            Severity.HIGH,
            "a problem the copy refuses to start with",
            "resolve it as its message says (cast, exclude, allow_lossy, a key)",
        ),
        Rule(
            "non-empty-target",
            Severity.HIGH,
            "a target table that already holds rows",
            "empty it, or set copy.target_prep: truncate (or drop_create); rows with the "
            "same key would collide",
        ),
        Rule(
            "foreign-key-cycle",
            Severity.MEDIUM,
            "tables whose foreign keys form a cycle",
            "nothing to change: those keys are created after the rows; check that the rows "
            "satisfy them, or leave one key out",
        ),
        Rule(
            "cursor-without-index",
            Severity.MEDIUM,
            "an incremental cursor column without an index in the source",
            "index the cursor column in the source; every pass reads it with a range scan",
        ),
        Rule(
            "target-triggers",
            Severity.MEDIUM,
            "triggers on a target table",
            "disable them for the load, or check that they may fire once per copied row",
        ),
        Rule(
            "missing-privileges",
            Severity.HIGH,
            "a privilege the copy needs and the connection lacks",
            "grant it to the connection's user (SELECT on the source; CREATE, INSERT on the "
            "target)",
        ),
        Rule(
            "long-source-transactions",
            Severity.MEDIUM,
            "transactions open on the source for a long time",
            "let them finish, or end them, before the copy: they hold back the snapshot and vacuum",
        ),
        Rule(
            "table-too-large-for-window",
            Severity.HIGH,
            "a table whose estimated copy time is longer than one window",
            "widen the window, raise copy.parallel, or let it pause at window ends "
            "(window_behavior.outside_window: pause)",
        ),
        Rule(
            "dependency-not-scheduled-before",
            Severity.MEDIUM,
            "a dependency whose next run is not before this migration's",
            "schedule the dependency to run first, or drop it from depends_on",
        ),
    )
}


class RiskSpec(SpecModel):
    """``risk: {fail_on: high, ignore: [target-triggers], long_transaction: 5m}``."""

    fail_on: Severity | None = None
    ignore: tuple[str, ...] = ()
    # a source transaction open longer than this is a finding
    long_transaction: Duration = timedelta(minutes=5)

    @field_validator("ignore")
    @classmethod
    def _known(cls, ignore: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in ignore if r not in RULES]
        if unknown:
            raise ValueError(f'no rule "{unknown[0]}"; the rules: {", ".join(RULES)}')
        return ignore


def finding(rule_id: str, subject: str, message: str) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule.id, rule.severity, subject, message, rule.remediation)


Check = Callable[[Mapping[str, Any]], Iterator[Finding]]


def _tables(facts: Mapping[str, Any]) -> Iterator[Finding]:
    for t in facts.get("tables", []):
        name = t["source"]
        if not t.get("key"):
            yield finding("keyless-table", name, f"{name} has no primary or unique key")
        for column, why in t.get("lossy", []):
            yield finding("lossy-mapping", f"{name}.{column}", f"{name}.{column}: {why}")
        if t.get("target_rows"):
            yield finding(
                "non-empty-target",
                t["target"],
                f"{t['target']} holds {t['target_rows']:,} rows and copy.target_prep is none",
            )
        if t.get("cursor") and t.get("cursor_indexed") is False:
            yield finding(
                "cursor-without-index",
                f"{name}.{t['cursor']}",
                f"{name}.{t['cursor']} has no index in the source",
            )
        if t.get("triggers"):
            yield finding(
                "target-triggers",
                t["target"],
                f"{t['target']} has triggers: {', '.join(t['triggers'])}",
            )


def _plan(facts: Mapping[str, Any]) -> Iterator[Finding]:
    for problem in facts.get("refused", []):
        yield finding("refused-mapping", problem.split(":")[0], problem)
    for child, parent in facts.get("cycles", []):
        yield finding(
            "foreign-key-cycle", child, f"{child} -> {parent} closes a cycle of foreign keys"
        )
    for side, what in facts.get("missing_privileges", []):
        yield finding("missing-privileges", side, f"{side}: {what}")
    for who, seconds in facts.get("long_transactions", []):
        yield finding(
            "long-source-transactions",
            "source",
            f"a transaction of {who} has been open for {int(seconds)} s",
        )


def _schedule(facts: Mapping[str, Any]) -> Iterator[Finding]:
    for dep, why in facts.get("dependencies_late", []):
        yield finding("dependency-not-scheduled-before", dep, f"depends on {dep}, {why}")
    for table, estimate, window in facts.get("too_large", []):
        yield finding(
            "table-too-large-for-window",
            table,
            f"{table} needs about {estimate}, longer than its window ({window})",
        )


CHECKS: tuple[Check, ...] = (_tables, _plan, _schedule)


def assess(facts: Mapping[str, Any], spec: RiskSpec | None = None) -> list[Finding]:
    """Every finding, most severe first; the rules ``spec.ignore`` names left out."""
    ignored = set(spec.ignore) if spec else set()
    found = [f for check in CHECKS for f in check(facts) if f.rule not in ignored]
    return sorted(found, key=lambda f: (-f.severity.rank, f.rule, f.subject))


def at_least(findings: list[Finding], severity: Severity | None) -> list[Finding]:
    """The findings of ``severity`` or above (none for None)."""
    if severity is None:
        return []
    return [f for f in findings if f.severity.rank >= severity.rank]
