"""Helpers for validation tests."""

from __future__ import annotations

from moonshift.app import Moonshift
from moonshift.jobs.copy import connectors
from moonshift.validation.runner import Report, subject
from moonshift.validation.runner import validate as run_checks


def validate(app: Moonshift, migration_id: str = "c") -> Report:
    spec = app.ctx.spec_of(migration_id)
    source, target = connectors(spec, {})
    return run_checks(subject(spec, source, target))
