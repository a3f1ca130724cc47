"""Liveness and readiness, without a key: for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from moonshift.api.auth import App
from moonshift.app import views

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(app: App) -> views.Health:
    """The state store answers (503 when it does not)."""
    return app.daemons.ready()
