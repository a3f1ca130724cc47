"""A copy's validation: the newest one's result per perspective and the divergences it
kept; validate now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from moonshift.errors import NotFound
from moonshift.web.rendering import PageRoute, act, page
from moonshift.web.session import App, Operating, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE_SIZE = 50


@router.get("/migrations/{migration_id}/validation")
def validation(
    request: Request,
    migration_id: str,
    app: App,
    who: Reading,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    migration = app.migrations.get(migration_id)
    try:
        report = app.validation.latest(migration_id) if migration.kind == "copy" else None
    except NotFound:
        report = None
    found = (
        app.validation.divergences(migration_id, limit=PAGE_SIZE, after=after) if report else None
    )
    return page(
        request,
        "validation.html",
        who,
        m=migration,
        report=report,
        divergences=found.items if found else [],
        next=found.next if found else None,
    )


@router.post("/migrations/{migration_id}/validate")
def validate(migration_id: str, app: App, who: Operating) -> Response:
    def do() -> str:
        report = app.validation.run(migration_id, actor=who.actor)
        return f"validation {report.id}: {'passed' if report.passed else report.state}"

    return act(f"/migrations/{migration_id}/validation", do)
