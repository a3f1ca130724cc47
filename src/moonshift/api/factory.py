"""``create_app(settings)``: the REST API as a FastAPI application over one ``Moonshift``.

Other faces mount beside it (the dashboard under ``/``): ``create_app`` returns the FastAPI
app, whose routes all live under ``/v1`` but for health and metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from moonshift import __version__
from moonshift.api import problems
from moonshift.api.middleware import IdempotencyKeys, RequestBodies
from moonshift.api.routes import (
    alerts,
    calendar_feed,
    connections,
    control,
    copies,
    daemons,
    error_queue,
    events,
    health,
    keys,
    metrics,
    migrations,
    notifications,
    plans,
    runs,
    schedule,
    validation,
    webhooks,
)
from moonshift.app import Moonshift, Settings
from moonshift.domain.spec import ConnectionSpec, MigrationSpec

ROUTERS = (
    migrations,
    schedule,
    control,
    copies,
    plans,
    validation,
    error_queue,
    runs,
    connections,
    notifications,
    alerts,
    webhooks,
    events,
    calendar_feed,
    daemons,
    keys,
    metrics,
    health,
)
DESCRIPTION = """moonshift schedules and runs data migrations between databases, safely.

Send an API key as `Authorization: Bearer KEY` (`moonshift keys create --name ci --scope
operate`). Scopes: `feed` (the calendar), `read` (every GET), `operate` (run and steer
migrations), `admin` (define migrations, connections and keys). Errors are RFC 9457
problem details. Every POST honours `Idempotency-Key`.
"""


def create_app(settings: Settings, *, app: Moonshift | None = None) -> FastAPI:
    """The API over ``app`` (or a new ``Moonshift`` for ``settings``, closed on shutdown)."""
    service = app or Moonshift(settings)

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        yield
        if app is None:
            service.close()

    api = FastAPI(
        title="moonshift",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        responses=problems.ERROR_RESPONSES,
    )
    api.state.moonshift = service
    problems.install(api)
    for module in ROUTERS:
        api.include_router(module.router)
    api.add_middleware(IdempotencyKeys, moonshift=service)
    api.add_middleware(RequestBodies)
    api.openapi = lambda: openapi(api)  # type: ignore[method-assign]
    return api


def openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the spec document's schema as the body of POST
    /v1/migrations (the route reads JSON or YAML itself)."""
    if api.openapi_schema:
        return api.openapi_schema
    document = get_openapi(
        title=api.title,
        version=api.version,
        description=api.description,
        routes=api.routes,
        openapi_version=api.openapi_version,
    )
    template = "#/components/schemas/{model}"
    spec = TypeAdapter(MigrationSpec).json_schema(ref_template=template)
    connection = TypeAdapter(ConnectionSpec).json_schema(ref_template=template)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for found in (spec, connection):
        schemas.update(found.pop("$defs", {}))
    schemas["MigrationSpec"], schemas["ConnectionSpec"] = spec, connection
    ref = {"$ref": template.format(model="MigrationSpec")}
    body = {
        "anyOf": [
            ref,
            {"type": "array", "items": ref},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "migrations": {"type": "array", "items": ref},
                    "connections": {
                        "type": "array",
                        "items": {"$ref": template.format(model="ConnectionSpec")},
                    },
                    "channels": {
                        "type": "array",
                        "items": {"$ref": template.format(model="ChannelSpec")},
                    },
                    "notify": {
                        "type": "array",
                        "items": {"$ref": template.format(model="NotifyRule")},
                    },
                },
            },
        ]
    }
    operation = document["paths"]["/v1/migrations"]["post"]
    operation.pop("x-spec-document", None)
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": body},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
    api.openapi_schema = document
    return document
