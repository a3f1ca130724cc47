"""Helpers for validation tests."""

from __future__ import annotations

from moonshift.app import Moonshift
from moonshift.jobs.copy import connectors
from moonshift.validation.runner import Report, subject
from moonshift.validation.runner import validate as run_checks


def validate(app: Moonshift, migration_id: str = "c", *perspectives: str) -> Report:
    """Validate in this process (through the runner, for every detail of the results);
    ``perspectives``: only these."""
    spec = app.ctx.spec_of(migration_id)
    if perspectives:
        chosen = spec.validation_spec.model_copy(update={"perspectives": perspectives})
        spec = spec.model_copy(update={"validation": chosen})
    source, target = connectors(spec, {})
    return run_checks(subject(spec, source, target))
