"""A copy's live run: per-table progress, rows per second, time left and where the time goes,
refreshed by server-sent events; pause, resume, stop and stop immediately."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from moonshift.app import Moonshift
from moonshift.app.copies import bottleneck
from moonshift.domain import lifecycle
from moonshift.domain.progress import Progress
from moonshift.errors import Conflict
from moonshift.web.rendering import PageRoute, act, page, templates
from moonshift.web.session import App, Operating, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# How often the stream looks at the store: an update reaches the page within this of the
# run's checkpoint (the worker writes its progress with each batch's checkpoint).
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 3600.0


def _progress(app: Moonshift, migration_id: str) -> dict[str, object]:
    """What the progress part of the page shows, from one read of the latest run."""
    try:
        status = app.copies.status(migration_id)
    except Conflict:  # it has not run yet
        return {"status": None, "bottleneck": None}
    return {
        "status": status,
        "bottleneck": bottleneck(status.run, status.progress or Progress()),
        "watching": status.state in lifecycle.ACTIVE,
    }


def _fragment(migration_id: str, found: dict[str, object]) -> str:
    return templates.get_template("_progress.html").render(migration_id=migration_id, **found)


@router.get("/migrations/{migration_id}/live")
def live(request: Request, migration_id: str, app: App, who: Reading) -> Response:
    spec = app.migrations.get(migration_id)
    found = _progress(app, migration_id) if spec.kind == "copy" else {"status": None}
    return page(request, "live.html", who, m=spec, **found)


@router.get("/migrations/{migration_id}/live/events")
async def events(request: Request, migration_id: str, app: App, _: Reading) -> Response:
    """Server-sent events: ``progress`` with the progress part of the page whenever it
    changes, then ``end`` once the run has ended."""
    first = await run_in_threadpool(_progress, app, migration_id)
    return StreamingResponse(
        _stream(request, app, migration_id, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request, app: Moonshift, migration_id: str, found: dict[str, object]
) -> AsyncIterator[str]:
    last, sent_at = "", time.monotonic()
    deadline = sent_at + STREAM_SECONDS
    while time.monotonic() < deadline and not await request.is_disconnected():
        html = _fragment(migration_id, found)
        if html != last:
            last, sent_at = html, time.monotonic()
            yield _event("progress", html)
        elif time.monotonic() - sent_at > KEEPALIVE_SECONDS:
            sent_at = time.monotonic()
            yield ": keep-alive\n\n"
        if not found.get("watching"):
            yield _event("end", "")
            return
        await asyncio.sleep(POLL_SECONDS)
        found = await run_in_threadpool(_progress, app, migration_id)


def _event(name: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


@router.post("/migrations/{migration_id}/pause")
def pause(migration_id: str, app: App, who: Operating) -> Response:
    return act(
        _live(migration_id),
        lambda: (
            f"run {app.copies.pause(migration_id, actor=who.actor).id} pauses after "
            "its current batch"
        ),
    )


@router.post("/migrations/{migration_id}/resume")
def resume(migration_id: str, app: App, who: Operating) -> Response:
    return act(
        _live(migration_id),
        lambda: f"run {app.copies.resume(migration_id, actor=who.actor).id} resumes",
    )


@router.get("/migrations/{migration_id}/stop")
def confirm_stop(
    request: Request, migration_id: str, app: App, who: Reading, immediate: bool = False
) -> Response:
    """Ask before stopping: what each way of stopping keeps."""
    return page(request, "stop.html", who, m=app.migrations.get(migration_id), immediate=immediate)


@router.post("/migrations/{migration_id}/stop")
def stop(
    migration_id: str,
    app: App,
    who: Operating,
    immediate: Annotated[bool, Form()] = False,
) -> Response:
    def do() -> str:
        run = app.copies.stop(migration_id, actor=who.actor, immediate=immediate)
        return f"run {run.id} stops {'now' if immediate else 'after its current batch'}"

    return act(_live(migration_id), do)


def _live(migration_id: str) -> str:
    return f"/migrations/{migration_id}/live"
