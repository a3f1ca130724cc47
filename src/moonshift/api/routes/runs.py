"""Runs: a migration's runs, one run, its logs, cancelling it; backfills of past fires."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import Limit, MigrationId, RunId
from moonshift.app import views

router = APIRouter(prefix="/v1", tags=["runs"])


@router.get("/migrations/{migration_id}/runs")
def list_runs(
    migration_id: MigrationId,
    app: App,
    _: Reader,
    limit: Limit = 20,
    before: Annotated[
        int | None, Query(ge=1, description="The `next` of the previous page")
    ] = None,
) -> views.Page[views.Run]:
    """A migration's runs, newest first."""
    return app.runs.page(migration_id, limit=limit, before=before)


@router.get("/runs/{run_id}")
def show_run(run_id: RunId, app: App, _: Reader) -> views.Run:
    return app.runs.get(run_id)


@router.get("/runs/{run_id}/logs")
def run_logs(
    run_id: RunId, app: App, _: Reader, stream: Literal["stdout", "stderr"] = "stdout"
) -> views.Log:
    """What a command run wrote to standard output or standard error."""
    return app.runs.log(run_id, stream)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000)


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: RunId, app: App, who: Operator, body: CancelBody | None = None) -> views.Run:
    """Cancel a run that has not ended."""
    return app.runs.cancel(run_id, actor=who.actor, reason=body.reason if body else None)


class BackfillBody(BaseModel):
    """Each fire in [start, end] becomes a BACKFILL run with that fire as its logical date
    (a date means the whole day, in the migration's zone)."""

    model_config = ConfigDict(extra="forbid")

    start: date | datetime
    end: date | datetime
    parallel: int = Field(default=1, ge=1, le=1000)
    reprocess: Literal["missing", "failed", "all"] = "missing"
    max_runs: int = Field(default=10_000, ge=1, le=100_000)
    dry_run: bool = False


@router.post("/migrations/{migration_id}/backfills", status_code=202)
def backfill(
    migration_id: MigrationId, body: BackfillBody, app: App, who: Operator
) -> views.Backfill | views.BackfillPlan:
    """Queue a backfill for the daemon (503 when none runs), or with `dry_run` say what it
    would run."""
    if body.dry_run:
        return app.backfills.plan(
            migration_id, body.start, body.end, reprocess=body.reprocess, max_runs=body.max_runs
        )
    return app.backfills.create(
        migration_id,
        body.start,
        body.end,
        actor=who.actor,
        parallel=body.parallel,
        reprocess=body.reprocess,
        max_runs=body.max_runs,
    )
