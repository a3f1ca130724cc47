"""An event sent to moonshift: what event schedules match, and what a filter function sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class IncomingEvent:
    event_type: str
    event_data: Mapping[str, Any] = field(default_factory=dict)
    source: str = "api"
