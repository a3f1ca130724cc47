"""Daemons: which ones heartbeat into this state store."""

from __future__ import annotations

from fastapi import APIRouter

from moonshift.api.auth import App, Reader
from moonshift.app import views

router = APIRouter(prefix="/v1", tags=["daemons"])


@router.get("/daemons")
def daemons(app: App, _: Reader) -> views.Page[views.Daemon]:
    return views.Page(items=app.daemons.status().live)
