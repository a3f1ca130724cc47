"""Taking a copied migration through its perspectives: plan it again (as it is, and as if
the target were empty), run each perspective the spec names, and gather their results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from moonshift.connectors.base import Connector
from moonshift.copy.plan import Planner
from moonshift.domain.copy_spec import CreateTarget
from moonshift.domain.spec import MigrationSpec
from moonshift.domain.validation import CheckResult
from moonshift.domain.validation_spec import Perspective
from moonshift.errors import TerminalError
from moonshift.seams import Check
from moonshift.validation.behavioral import Behavioral
from moonshift.validation.referential import Referential
from moonshift.validation.rows import RowLevel
from moonshift.validation.semantic import Semantic
from moonshift.validation.statistical import Statistical
from moonshift.validation.structure import Structural
from moonshift.validation.subject import Subject

CHECKS: Mapping[Perspective, Callable[[], Check]] = {
    Perspective.STRUCTURAL: Structural,
    Perspective.STATISTICAL: Statistical,
    Perspective.ROW_LEVEL: RowLevel,
    Perspective.REFERENTIAL: Referential,
    Perspective.SEMANTIC: Semantic,
    Perspective.BEHAVIORAL: Behavioral,
}


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def summary(self) -> str:
        return "; ".join(
            f"{r.perspective} {'passed' if r.passed else 'FAILED'}: {r.summary}"
            for r in self.results
        )


def subject(
    spec: MigrationSpec,
    source: Connector,
    target: Connector,
    heartbeat: Callable[[], None] = lambda: None,
) -> Subject:
    """Plan the copy against the target as it is and as if it were empty. Where the
    target as it is cannot be planned into (a column changed since the copy), the rows are
    read as the empty target's plan says and structural validation names the change.
    TerminalError when the copy itself cannot be planned."""
    copy = spec.copy_spec
    plan = Planner(copy, source, target).plan()
    expected = plan
    if copy.create_target is not CreateTarget.NEVER:
        expected = Planner(copy, source, target, fresh=True).plan()
    if expected.errors:
        raise TerminalError("; ".join(str(e) for e in expected.errors))
    return Subject(spec, expected if plan.errors else plan, expected, source, target, heartbeat)


def validate(subject: Subject) -> Report:
    """Every perspective the spec names, in its order."""
    results = []
    for perspective in subject.spec.validation_spec.perspectives:
        subject.heartbeat()
        results.append(CHECKS[perspective]().run(subject))
    return Report(tuple(results))
