"""Path and query parameters every router shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response
from pydantic import BaseModel

from moonshift.domain.spec_base import SLUG_PATTERN

MigrationId = Annotated[
    str,
    Path(
        pattern=SLUG_PATTERN,
        max_length=63,
        description='A migration id: lowercase letters, digits, "-", "_"',
    ),
]
ConnectionId = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=63)]
RunId = Annotated[int, Path(ge=1, le=2**53)]
ErrorId = Annotated[int, Path(ge=1, le=2**53)]
SuggestionId = Annotated[
    str, Path(pattern="^[0-9a-f]{1,64}$", description="A suggestion's id, as a plan lists it")
]


def as_json(view: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A view as its JSON, straight: the route's response model documents it, and FastAPI does
    not validate again what the application layer built (it costs, on a long list)."""
    return Response(view.model_dump_json(), media_type="application/json", headers=headers)


Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
