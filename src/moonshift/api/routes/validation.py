"""Validation of a copied migration: run it, read the newest one and its divergences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["validation"])


@router.post("/validate")
def validate(migration_id: MigrationId, app: App, who: Operator) -> views.ValidationReport:
    """Validate the copy now (structural, row-level, referential). Its latest run, when
    completed, moves to validating and ends certified or failed. `passed` says whether
    every perspective passed."""
    return app.validation.run(migration_id, actor=who.actor)


@router.get("/validation")
def validation(migration_id: MigrationId, app: App, _: Reader) -> views.ValidationReport:
    """The newest validation: per perspective its result, counts and divergences found."""
    return app.validation.latest(migration_id)


@router.get("/validation/divergences")
def divergences(
    migration_id: MigrationId,
    app: App,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int | None, Query(ge=0, description="`next` of the previous page")] = None,
) -> views.Page[views.Divergence]:
    """The newest validation's divergences, in the order found, a page at a time; each
    with its key and both sides' values (redacted columns masked)."""
    return app.validation.divergences(migration_id, limit=limit, after=after)
