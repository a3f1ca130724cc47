"""Path and query parameters every router shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

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
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
