"""Alerts: what failed, is unreachable, missed its window or has too many bad rows, by
status; acknowledge one with a note (its reminders stop)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from moonshift.web.rendering import PageRoute, act, page
from moonshift.web.session import App, Operating, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
Shown = Literal["open", "acknowledged", "closed", "all"]
SHOWN = ("", "open", "acknowledged", "closed", "all")


@router.get("/alerts")
def alerts(
    request: Request,
    app: App,
    who: Reading,
    status: Annotated[Shown | Literal[""], Query()] = "",
    migration: Annotated[str | None, Query(max_length=63)] = None,
) -> Response:
    """Alerts newest first: those not closed, or of one status."""
    found = app.alerts.list(status=status or None, migration_id=migration or None, limit=200)
    return page(
        request,
        "alerts.html",
        who,
        alerts=found,
        status=status,
        migration=migration or "",
        statuses=SHOWN,
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: int,
    app: App,
    who: Operating,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def do() -> str:
        done = app.alerts.acknowledge(alert_id, actor=who.actor, note=note.strip() or None)
        return f"alert {done.id} acknowledged; its reminders stop"

    return act("/alerts", do)
