"""The web dashboard: server-rendered pages over ``moonshift.app``, served by ``moonshift
serve`` under ``/`` beside the REST API. ``install(api)`` adds its routes and static files to
the API's FastAPI application (the same ``Moonshift``, views and error kinds)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from moonshift.web import (
    alerts,
    assets,
    certificates,
    error_queue,
    graph,
    live,
    pages,
    plans,
    validation,
    week,
)

__all__ = ["install"]


def install(api: FastAPI) -> None:
    """Serve the dashboard from ``api`` (made by ``moonshift.api.create_app``)."""
    api.include_router(assets.router)
    pages_ = (pages, live, error_queue, plans, validation, certificates, alerts, graph, week)
    for module in pages_:
        api.include_router(module.router)
    api.mount("/static", StaticFiles(directory=assets.STATIC), name="static")
