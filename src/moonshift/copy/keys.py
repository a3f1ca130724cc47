"""Keys and watermarks as JSON, without loss: every value keeps its type."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

_TAGS: dict[str, Any] = {
    "d": Decimal,
    "dt": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "uuid": uuid.UUID,
    "b": bytes.fromhex,
    "f": float.fromhex,
}


def _tagged(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"f": value.hex()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, time):
        return {"time": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, bytes | memoryview):
        return {"b": bytes(value).hex()}
    raise TypeError(f"cannot keep a {type(value).__name__} in a checkpoint")


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _TAGS[tag](text)
    return value


def encode(values: Sequence[Any] | None) -> str | None:
    return None if values is None else json.dumps([_tagged(v) for v in values])


def decode(text: str | None) -> tuple[Any, ...] | None:
    return None if text is None else tuple(_untagged(v) for v in json.loads(text))
