"""A copy's verification, progress (also as a stream of server-sent events),
bottleneck, lag and rollback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from moonshift.api.auth import Admin, App, Reader
from moonshift.api.params import MigrationId, as_json
from moonshift.app import Moonshift, views
from moonshift.domain import lifecycle

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["copies"])
# How often a stream looks at the store: a progress update reaches its client within this
# (plus the worker's own reporting interval).
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0


@router.post("/verify")
def verify(migration_id: MigrationId, app: App, _: Reader) -> views.Page[views.TableCheck]:
    """Row counts and order-free checksums of every table, source beside target."""
    return views.Page(items=app.copies.verify(migration_id))


@router.get("/progress", response_model=views.CopyStatus)
def progress(migration_id: MigrationId, app: App, _: Reader) -> Response:
    """The latest run's progress per table: rows, rate, time left."""
    return as_json(app.copies.status(migration_id))


@router.get(
    "/progress/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "progress events"}},
)
async def progress_stream(
    migration_id: MigrationId,
    request: Request,
    app: App,
    _: Reader,
    timeout: Annotated[
        float, Query(gt=0, le=86_400, description="Close after this many seconds")
    ] = 3600,
) -> StreamingResponse:
    """Server-sent events: a `progress` event (the same body as GET .../progress) whenever
    the latest run moves, an `end` event when it has ended or paused, then the stream
    closes."""
    first = await run_in_threadpool(app.copies.status, migration_id)
    return StreamingResponse(
        _events(app, migration_id, first, request, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    app: Moonshift, migration_id: str, first: views.CopyStatus, request: Request, timeout: float
) -> AsyncIterator[str]:
    last, sent_at, deadline = "", time.monotonic(), time.monotonic() + timeout
    status = first
    while time.monotonic() < deadline and not await request.is_disconnected():
        body = json.dumps(status.model_dump(mode="json"))
        if body != last:
            last, sent_at = body, time.monotonic()
            yield f"event: progress\nid: {status.run}\ndata: {body}\n\n"
        elif time.monotonic() - sent_at > KEEPALIVE_SECONDS:
            sent_at = time.monotonic()
            yield ": keep-alive\n\n"
        if status.state not in lifecycle.UNDER_WAY:
            yield f"event: end\nid: {status.run}\ndata: {body}\n\n"
            return
        await asyncio.sleep(POLL_SECONDS)
        status = await run_in_threadpool(app.copies.status, migration_id)


@router.get("/performance/bottleneck")
def bottleneck(migration_id: MigrationId, app: App, _: Reader) -> views.Bottleneck:
    """Which stage takes the batches' time (source read, transform, target write), and the
    advice for it."""
    return app.copies.bottleneck(migration_id)


@router.get("/lag")
def lag(migration_id: MigrationId, app: App, _: Reader) -> views.Page[views.TableLag]:
    """How far an incremental target is behind: rows past the watermark, cursor distance."""
    return views.Page(items=app.copies.lag(migration_id))


class RollbackBody(BaseModel):
    """`truncate` empties the copy's target tables, children first; `point_in_time`
    restores them from the snapshot taken when the copy started (`copy.snapshot: true`);
    `restore_to`, if given, must not be after that snapshot."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["truncate", "point_in_time", "point-in-time"]
    restore_to: datetime | None = None
    reason: str | None = Field(default=None, max_length=1000)


@router.post("/rollback")
def rollback(migration_id: MigrationId, body: RollbackBody, app: App, who: Admin) -> views.Rollback:
    """Undo the copy in the target (refused while a run is running: stop it first)."""
    return app.copies.rollback(
        migration_id,
        strategy=body.strategy,
        actor=who.actor,
        reason=body.reason,
        restore_to=body.restore_to,
    )


@router.get("/rollback/status")
def rollback_status(migration_id: MigrationId, app: App, _: Reader) -> views.Page[views.Rollback]:
    """The copy's rollbacks, newest first, with rows before and after per table."""
    return views.Page(items=app.copies.rollback_status(migration_id))
