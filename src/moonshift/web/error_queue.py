"""A copy's error queue: the rows the target refused, by status; one row's details; skip it
with a reason, or write it again."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from moonshift.web.rendering import PageRoute, act, page
from moonshift.web.session import App, Operating, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE_SIZE = 50
Status = Literal["open", "skipped", "resolved", "all"]


@router.get("/migrations/{migration_id}/errors")
def queue(
    request: Request,
    migration_id: str,
    app: App,
    who: Reading,
    status: Status = "open",
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    found = app.copies.error_page(
        migration_id, status=None if status == "all" else status, limit=PAGE_SIZE, after=after
    )
    return page(
        request,
        "errors.html",
        who,
        m=app.migrations.get(migration_id),
        errors=found.items,
        next=found.next,
        status=status,
        statuses=("open", "skipped", "resolved", "all"),
    )


@router.get("/migrations/{migration_id}/errors/{error_id}")
def detail(request: Request, migration_id: str, error_id: int, app: App, who: Reading) -> Response:
    return page(
        request,
        "copy_error.html",
        who,
        m=app.migrations.get(migration_id),
        e=app.copies.error(migration_id, error_id),
    )


@router.post("/migrations/{migration_id}/errors/{error_id}/skip")
def skip(
    migration_id: str,
    error_id: int,
    app: App,
    who: Operating,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def do() -> str:
        app.copies.error(migration_id, error_id)
        app.copies.skip_error(error_id, actor=who.actor, reason=reason)
        return f"row {error_id} skipped"

    return act(f"/migrations/{migration_id}/errors/{error_id}", do)


@router.post("/migrations/{migration_id}/errors/{error_id}/retry")
def retry(migration_id: str, error_id: int, app: App, who: Operating) -> Response:
    def do() -> str:
        [result] = app.copies.retry_errors(migration_id, [error_id], actor=who.actor)
        if result.status == "resolved":
            return f"row {error_id} written"
        return f"row {error_id} refused again: {result.message}"

    return act(f"/migrations/{migration_id}/errors/{error_id}", do)
