"""A migration's schedule: see it, set it (`start_at` + `timezone`, or any schedule kind),
change it, cancel it. Each change is a new version of the migration's spec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}/schedule", tags=["schedule"])


class ScheduleBody(BaseModel):
    """Exactly one of immediate, start_at, cron, interval or event (PATCH: any subset)."""

    model_config = ConfigDict(extra="forbid")

    start_at: datetime | None = None
    timezone: str | None = None
    cron: str | None = None
    interval: str | None = None
    anchor: datetime | None = None
    immediate: bool | None = None
    event: dict[str, Any] | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


@router.get("")
def get_schedule(migration_id: MigrationId, app: App, _: Reader) -> views.ScheduleDetail:
    """The schedule as the spec gives it, its status and its next fire."""
    return app.schedules.detail(migration_id)


@router.post("")
def set_schedule(
    migration_id: MigrationId, body: ScheduleBody, app: App, who: Operator
) -> views.ScheduleDetail:
    """Give the migration this schedule (it replaces the one it had)."""
    return app.schedules.set(migration_id, body.given(), actor=who.actor)


@router.patch("")
def change_schedule(
    migration_id: MigrationId, body: ScheduleBody, app: App, who: Operator
) -> views.ScheduleDetail:
    """Change the keys given (a new `start_at`, another `timezone`)."""
    return app.schedules.set(migration_id, body.given(), actor=who.actor, merge=True)


@router.delete("")
def cancel_schedule(migration_id: MigrationId, app: App, who: Operator) -> views.Applied:
    """Cancel the schedule: nothing fires any more (the migration stays)."""
    return app.schedules.cancel(migration_id, actor=who.actor)
