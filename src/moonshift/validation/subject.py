"""What a validation looks at: the copy's plan, both databases and the spec's limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from moonshift.connectors.base import Connector
from moonshift.copy.plan import CopyPlan
from moonshift.domain.copy_spec import CreateTarget
from moonshift.domain.spec import MigrationSpec

REDACTED = "***"


@dataclass(frozen=True)
class Subject:
    spec: MigrationSpec
    plan: CopyPlan  # what the copy made of the spec, planned against the target as it is
    expected: CopyPlan  # the same, planned against an empty target: every object it creates
    source: Connector
    target: Connector
    # called between steps of a long check: renews the run's lease
    heartbeat: Callable[[], None] = field(default=lambda: None)

    @property
    def creates(self) -> bool:
        """moonshift creates the target's tables (not ``create_target: never``)."""
        return self.spec.copy_spec.create_target is not CreateTarget.NEVER

    @property
    def limit(self) -> int:
        return self.spec.validation_spec.max_divergences

    def shown(self, table: str, column: str, value: str | None) -> str | None:
        """A value as a report shows it: a redacted column's is masked."""
        if value is not None and self.spec.copy_spec.redacted(table, column):
            return REDACTED
        return value
