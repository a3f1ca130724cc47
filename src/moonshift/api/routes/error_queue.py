"""A copy's error queue: rows the target refused, to look at, skip or write again."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import ErrorId, Limit, MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}/errors", tags=["errors"])


@router.get("")
def list_errors(
    migration_id: MigrationId,
    app: App,
    _: Reader,
    status: Annotated[Literal["open", "skipped", "resolved", "all"], Query()] = "open",
    limit: Limit = 100,
    after: Annotated[int | None, Query(ge=0, description="The `next` of the previous page")] = None,
) -> views.Page[views.CopyError]:
    """Queued rows, oldest first, their values redacted as the spec says."""
    return app.copies.error_page(
        migration_id, status=None if status == "all" else status, limit=limit, after=after
    )


@router.get("/{error_id}")
def show_error(
    migration_id: MigrationId, error_id: ErrorId, app: App, _: Reader
) -> views.CopyError:
    """One queued row: its table, key, values and the target's message."""
    return app.copies.error(migration_id, error_id)


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Literal["skip"]
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/{error_id}/resolve")
def resolve(
    migration_id: MigrationId, error_id: ErrorId, body: Resolution, app: App, who: Operator
) -> views.CopyError:
    """Skip the row: it stays out of the target, with the reason in the audit log."""
    app.copies.error(migration_id, error_id)
    return app.copies.skip_error(error_id, actor=who.actor, reason=body.reason)


@router.post("/{error_id}/retry")
def retry(migration_id: MigrationId, error_id: ErrorId, app: App, who: Operator) -> views.CopyError:
    """Write the row again (read afresh from the source) after fixing its cause: it is
    resolved, or stays open with the target's new message."""
    [result] = app.copies.retry_errors(migration_id, [error_id], actor=who.actor)
    return result
