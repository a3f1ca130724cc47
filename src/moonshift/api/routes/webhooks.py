"""Webhook triggers: a request signed like Standard Webhooks starts a run without an API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from moonshift.api.auth import App
from moonshift.api.params import MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["webhooks"])


@router.post("/trigger", status_code=202)
async def trigger(
    migration_id: MigrationId,
    request: Request,
    app: App,
    webhook_id: Annotated[str | None, Header(max_length=255)] = None,
    webhook_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    webhook_signature: Annotated[str | None, Header(max_length=2000)] = None,
) -> views.Run:
    """Start a run of a migration whose spec has `trigger: {type: webhook, secret: ...}`:
    `webhook-signature: v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))`, a
    timestamp within 5 minutes, an id never delivered before."""
    body = await request.body()
    return await run_in_threadpool(
        lambda: app.webhooks.deliver(
            migration_id,
            message_id=webhook_id,
            timestamp=webhook_timestamp,
            signature=webhook_signature,
            body=body,
        )
    )
