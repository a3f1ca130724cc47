"""Can a run's databases be reached? Asked by the engine before a scheduled start and by the
worker when the run starts."""

from __future__ import annotations

from collections.abc import Mapping

from moonshift.connectors.probe import unreachable
from moonshift.domain.spec import MigrationSpec


def endpoints(spec: MigrationSpec) -> list[tuple[str, str, bool]]:
    """(side, url, must already exist) for each endpoint the spec names."""
    found = []
    if spec.source is not None:
        found.append(("source", spec.source.url, True))
    if spec.target is not None:
        found.append(("target", spec.target.url, False))
    return found


def check(spec: MigrationSpec, environ: Mapping[str, str]) -> str | None:
    """None when every endpoint answers; otherwise which one does not, and why."""
    for side, url, must_exist in endpoints(spec):
        reason = unreachable(url, environ, must_exist=must_exist)
        if reason:
            return f"{side} unreachable: {reason}"
    return None
