"""Events: what the Python API's `trigger_event` does, over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator
from moonshift.app import views

router = APIRouter(prefix="/v1", tags=["events"])


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)


@router.post("/events")
def trigger_event(body: EventBody, app: App, who: Operator) -> views.Page[views.TriggerEvent]:
    """Send an event: migrations whose event schedule matches its type and filter start."""
    return views.Page(items=app.schedules.trigger_event(body.type, body.data, actor=who.actor))
