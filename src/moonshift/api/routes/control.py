"""Running a migration and steering a running copy: start, pause, resume, stop, sync, and
live settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator
from moonshift.api.params import MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["control"])


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000)


IgnoreWindows = Annotated[
    bool,
    Query(
        description="Run now even outside every window; no window then pauses, fails or "
        "warns the run, to its end"
    ),
]


@router.post("/start", status_code=202)
def start(
    migration_id: MigrationId, app: App, who: Operator, ignore_windows: IgnoreWindows = False
) -> views.Run:
    """Queue a run for the daemon to start at once (it still waits for its dependencies);
    503 when no daemon runs; 409 outside every window, naming the next opening (unless
    `ignore_windows`), and 409 naming the run while another run of the migration is under
    way (unless its overlap is allow)."""
    return app.runs.start(migration_id, actor=who.actor, ignore_windows=ignore_windows)


@router.post("/pause")
def pause(
    migration_id: MigrationId, app: App, who: Operator, body: Reason | None = None
) -> views.Run:
    """Pause the running copy after its current batch, at a checkpoint."""
    return app.copies.pause(migration_id, actor=who.actor, reason=body.reason if body else None)


@router.post("/resume")
def resume(migration_id: MigrationId, app: App, who: Operator) -> views.Run:
    """Resume a paused copy from its checkpoint."""
    return app.copies.resume(migration_id, actor=who.actor)


@router.post("/stop")
def stop(
    migration_id: MigrationId,
    app: App,
    who: Operator,
    immediate: Annotated[bool, Query(description="Roll back the batch in flight")] = False,
    body: Reason | None = None,
) -> views.Run:
    """Stop the running copy at its checkpoint (`immediate`: now, the batch in flight rolled
    back). It keeps its checkpoint: resume it, or roll it back."""
    return app.copies.stop(
        migration_id, actor=who.actor, immediate=immediate, reason=body.reason if body else None
    )


@router.post("/sync", status_code=202)
def sync(
    migration_id: MigrationId, app: App, who: Operator, ignore_windows: IgnoreWindows = False
) -> views.Run:
    """An incremental pass now, for the daemon to run (the cutover's final sync); 409
    outside every window, as for `start`."""
    return app.copies.sync(
        migration_id, actor=who.actor, require_daemon=True, ignore_windows=ignore_windows
    )


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parallel_readers: int | None = Field(default=None, ge=1, le=64)


class TargetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int | None = Field(default=None, ge=1, le=10_000_000)


class LiveSettings(BaseModel):
    """`batch_size` and `parallel` (key ranges copied at once); the runbook's
    `{"source": {"parallel_readers": 2}}` means `parallel`."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int | None = Field(default=None, ge=1, le=10_000_000)
    parallel: int | None = Field(default=None, ge=1, le=64)
    source: SourceSettings | None = None
    target: TargetSettings | None = None

    def flat(self) -> dict[str, str]:
        found = {"batch_size": self.batch_size, "parallel": self.parallel}
        if self.source and self.source.parallel_readers is not None:
            found["parallel"] = self.source.parallel_readers
        if self.target and self.target.batch_size is not None:
            found["batch_size"] = self.target.batch_size
        return {k: str(v) for k, v in found.items() if v is not None}


@router.patch("/config")
def configure(migration_id: MigrationId, body: LiveSettings, app: App, who: Operator) -> views.Run:
    """Change the running copy's settings; it takes them at its next batch."""
    return app.copies.configure(migration_id, body.flat(), actor=who.actor)
