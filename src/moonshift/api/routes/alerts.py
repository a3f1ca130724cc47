"""Alerts: list them, acknowledge one (the runbook's first step for an escalated error)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import Limit
from moonshift.app import views
from moonshift.app.alerts import SHOWN, Alert

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("")
def list_alerts(
    app: App,
    _: Reader,
    status: Annotated[
        str | None, Query(description=f"One of {', '.join(SHOWN)}; default: not closed")
    ] = None,
    migration_id: Annotated[str | None, Query(max_length=63)] = None,
    limit: Limit = 100,
) -> views.Page[Alert]:
    return views.Page(items=app.alerts.list(status=status, migration_id=migration_id, limit=limit))


@router.get("/{alert_id}")
def show_alert(alert_id: AlertId, app: App, _: Reader) -> Alert:
    return app.alerts.get(alert_id)


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


@router.post("/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: AlertId, app: App, who: Operator, body: Acknowledgement | None = None
) -> Alert:
    """Stop the alert's reminders; who and the note are kept, and in the history. 409 when
    it was acknowledged already or is closed."""
    return app.alerts.acknowledge(alert_id, actor=who.actor, note=body.note if body else None)
