"""Migrations: create (a spec document, JSON or YAML), list, show, change, delete; what each
depends on, when it fires next, its windows and its history."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from moonshift.api.auth import Admin, App, Reader
from moonshift.api.params import Limit, MigrationId, as_json
from moonshift.api.problems import MalformedBody
from moonshift.app import STATUSES, views

router = APIRouter(prefix="/v1", tags=["migrations"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


@router.get("/migrations", response_model=views.Page[views.MigrationSummary])
def list_migrations(
    app: App,
    _: Reader,
    status: Annotated[str | None, Query(description=f"One of {', '.join(STATUSES)}")] = None,
    tag: str | None = None,
    limit: Limit = 100,
    after: Annotated[str | None, Query(description="The `next` of the previous page")] = None,
) -> Response:
    """Migrations with the state of their latest run, by id."""
    return as_json(app.migrations.page(status=status, tag=tag, limit=limit, after=after))


@router.post("/migrations", status_code=201, openapi_extra={"x-spec-document": True})
async def create_migrations(
    request: Request, response: Response, app: App, who: Admin
) -> views.ApplyReport:
    """Create or update migrations (and named connections) from a spec document: one
    migration, a list, or `{"migrations": [...], "connections": [...]}`, as JSON or YAML.
    Everything is validated before anything is written."""
    raw = await request.body()
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("must be UTF-8 text") from None
    if kind not in YAML_TYPES:
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedBody(
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    report = await run_in_threadpool(app.migrations.apply_document, text, actor=who.actor)
    if not any(r.action in ("created", "restored") for r in report.results):
        response.status_code = 200
    return report


@router.get("/migrations/{migration_id}", response_model=views.MigrationDetail)
def show_migration(migration_id: MigrationId, app: App, _: Reader) -> Response:
    """A migration (its spec redacted) and its latest runs; `ETag` for a later `If-Match`."""
    detail = app.migrations.show(migration_id)
    return as_json(detail, headers={"ETag": detail.migration.etag})


@router.patch("/migrations/{migration_id}")
def change_migration(
    migration_id: MigrationId,
    app: App,
    who: Admin,
    response: Response,
    changes: Annotated[dict[str, Any], Body(description="A JSON merge patch of the spec")],
    if_match: Annotated[str | None, Header(description="The ETag as read; 412 if it moved")] = None,
) -> views.Applied:
    """Change a migration's spec by a JSON merge patch (null removes a key)."""
    applied = app.migrations.patch(migration_id, changes, actor=who.actor, if_match=if_match)
    response.headers["ETag"] = app.migrations.get(migration_id).etag
    return applied


@router.delete("/migrations/{migration_id}")
def delete_migration(
    migration_id: MigrationId, app: App, who: Admin, force: bool = False
) -> views.Deleted:
    """Delete (409 while a run is active, unless `force`, which cancels those runs)."""
    return app.migrations.delete(migration_id, actor=who.actor, force=force)


@router.get("/deps")
def dependencies(app: App, _: Reader, migration: str | None = None) -> views.DependencyGraph:
    """The dependency graph, both ways."""
    return app.migrations.dependencies(migration)


@router.get("/migrations/{migration_id}/next")
def next_fires(
    migration_id: MigrationId, app: App, _: Reader, count: Annotated[int, Query(ge=1, le=1000)] = 10
) -> views.Upcoming:
    """The next fires, each with where it may start, and the next window openings."""
    return app.schedules.upcoming(migration_id, count=count)


@router.get("/migrations/{migration_id}/windows")
def windows(
    migration_id: MigrationId, app: App, _: Reader, count: Annotated[int, Query(ge=1, le=1000)] = 10
) -> views.Windows:
    """Whether a window is open now, and the next openings and closings."""
    return app.schedules.windows(migration_id, count=count)


@router.get("/migrations/{migration_id}/history")
def history(
    migration_id: MigrationId, app: App, _: Reader, limit: Limit = 100
) -> views.Page[views.AuditEntry]:
    """The audit log, newest first: who changed what, when and why."""
    return views.Page(items=app.runs.history(migration_id, limit=limit))
