"""API keys, for admins: make one (shown once), list them, revoke one."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import Admin, App
from moonshift.app import views
from moonshift.domain.spec_base import SLUG_PATTERN

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG_PATTERN, max_length=63)
    scope: Literal["feed", "read", "operate", "admin"]


@router.get("")
def list_keys(app: App, _: Admin) -> views.Page[views.ApiKey]:
    return views.Page(items=app.keys.list())


@router.post("", status_code=201)
def create_key(body: KeyBody, app: App, who: Admin) -> views.KeyCreated:
    """A new key; the response is the only place it is ever shown."""
    return app.keys.create(body.name, body.scope, actor=who.actor)


@router.delete("/{name}")
def revoke_key(
    name: str = Path(pattern=SLUG_PATTERN, max_length=63), *, app: App, who: Admin
) -> views.ApiKey:
    return app.keys.revoke(name, actor=who.actor)
