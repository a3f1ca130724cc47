"""What a validation finds: per perspective, whether it passed, what it counted and each
divergence (capped; how many were found is always whole). Stored as JSON, shown as it is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Values = dict[str, str | None]


class Divergence(BaseModel):
    """One difference: a row (missing, extra, changed), an object of the schema (missing,
    changed, extra) or an orphan row."""

    model_config = ConfigDict(frozen=True)

    table: str
    kind: str
    what: str  # in words, naming what differs
    key: Values | None = None  # the row's key, as canonical text
    source: Values | None = None  # the row on each side (redacted columns masked)
    target: Values | None = None


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    perspective: str
    passed: bool
    summary: str
    found: int = 0  # divergences found
    divergences: tuple[Divergence, ...] = ()  # the first ``max_divergences`` of them
    counts: dict[str, int] = Field(default_factory=dict)
    # per table: what a certificate names (rows on each side, the canonical digest)
    tables: dict[str, dict[str, str | int]] = Field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        return self.found > len(self.divergences)


class Findings:
    """Collects divergences up to a cap and counts every one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.found = 0
        self.kept: list[Divergence] = []

    def add(self, divergence: Divergence) -> None:
        self.found += 1
        if len(self.kept) < self.limit:
            self.kept.append(divergence)

    def result(
        self,
        perspective: str,
        summary: str,
        counts: dict[str, int] | None = None,
        tables: dict[str, dict[str, str | int]] | None = None,
    ) -> CheckResult:
        passed = self.found == 0
        return CheckResult(
            perspective=perspective,
            passed=passed,
            summary=summary if passed else f"{self.found} divergences: {summary}",
            found=self.found,
            divergences=tuple(self.kept),
            counts=counts or {},
            tables=tables or {},
        )
