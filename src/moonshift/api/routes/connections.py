"""Named connections: list, show, define, delete, test; and a one-off test of a URL that is
used for the test only (never kept, logged or shown)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import Admin, App, Operator, Reader
from moonshift.api.params import ConnectionId
from moonshift.app import views
from moonshift.domain.spec import ConnectionSpec

router = APIRouter(prefix="/v1/connections", tags=["connections"])


@router.get("")
def list_connections(app: App, _: Reader) -> views.Page[views.Connection]:
    return views.Page(items=app.connections.list())


class UrlTest(BaseModel):
    """The runbook's one-off test: a type and a URL, which may hold a literal password."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(max_length=40)
    connection_string: str = Field(max_length=4000)


@router.post("/test")
def check_url(body: UrlTest, app: App, _: Admin) -> views.ConnectionTest:
    """Connect once with the URL given; the answer says whether it worked, never the URL."""
    return app.connections.test_url(body.type, body.connection_string)


@router.post("", status_code=201)
def put_connection(body: ConnectionSpec, app: App, who: Admin) -> views.ConnectionApplied:
    """Define or change a named connection; its URL gives secrets as `${ENV}` references."""
    return app.connections.put(body, actor=who.actor)


@router.get("/{connection_id}")
def show_connection(connection_id: ConnectionId, app: App, _: Reader) -> views.Connection:
    return app.connections.get(connection_id)


@router.delete("/{connection_id}")
def delete_connection(connection_id: ConnectionId, app: App, who: Admin) -> views.Deleted:
    """Delete a connection no migration names (409 otherwise)."""
    return app.connections.delete(connection_id, actor=who.actor)


@router.post("/{connection_id}/test")
def check_connection(connection_id: ConnectionId, app: App, _: Operator) -> views.ConnectionTest:
    """Connect with the named connection, its references resolved where the API runs."""
    return app.connections.test(connection_id)
