"""What the scheduler API's schedules are made of: a schedule type and its definition, and
what it runs (``asset_graph``: a Python callable, or ``job``: any migration spec). Each
``Schedule`` becomes one migration spec (``to_spec``), checked and stored as a spec file is."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from moonshift.domain.durations import format_duration
from moonshift.domain.events import IncomingEvent
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import InvalidInput

TriggerEvent = IncomingEvent


class ScheduleType(StrEnum):
    CRON = "cron"
    INTERVAL = "interval"
    EVENT = "event"


@dataclass(frozen=True, kw_only=True)
class CronSchedule:
    cron_expression: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class IntervalSchedule:
    interval: str | timedelta  # "5s", "30m", "1h", "1d"
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class EventTrigger:
    event_type: str
    debounce_seconds: float | None = None
    description: str = ""
    # Called with the ``TriggerEvent``; the schedule fires only when it returns true. A
    # module-level function (or "package.module:function"): its import path is stored.
    event_filter: Callable[[IncomingEvent], bool] | str | None = None
    # Keys the event's data must hold with these values.
    data_filter: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AssetGraph:
    """A pipeline by name; ``callable`` (a module-level function, or "package.module:function")
    is what a run calls. Without one a run is a no-op, recorded like any other."""

    name: str
    callable: Callable[..., Any] | str | None = None


Definition = CronSchedule | IntervalSchedule | EventTrigger
_DEFINITIONS: dict[ScheduleType, type] = {
    ScheduleType.CRON: CronSchedule,
    ScheduleType.INTERVAL: IntervalSchedule,
    ScheduleType.EVENT: EventTrigger,
}


@dataclass(frozen=True, kw_only=True)
class Schedule:
    schedule_id: str
    schedule_type: ScheduleType
    schedule_definition: Definition
    name: str = ""
    asset_graph: AssetGraph | None = None
    job: MigrationSpec | Mapping[str, Any] | None = None  # any migration: copy, command...
    timezone: str = "UTC"
    enabled: bool = True
    description: str = ""

    def to_spec(self) -> dict[str, Any]:
        """The migration spec this schedule stands for."""
        expected = _DEFINITIONS[ScheduleType(self.schedule_type)]
        if not isinstance(self.schedule_definition, expected):
            raise InvalidInput(
                "schedule_definition",
                f"must be a {expected.__name__} for schedule type {self.schedule_type}",
            )
        spec = {**self._job(), "id": self.schedule_id, "enabled": self.enabled}
        described = self.description or self.schedule_definition.description
        spec.update({k: v for k, v in (("name", self.name), ("description", described)) if v})
        spec["schedule"] = {**_timing(self.schedule_definition), "timezone": self.timezone}
        return spec

    def _job(self) -> dict[str, Any]:
        if self.job is not None and self.asset_graph is not None:
            raise InvalidInput("job", "give asset_graph or job, not both")
        if self.job is not None:
            job = self.job
            data = job.canonical() if isinstance(job, MigrationSpec) else dict(job)
            return {k: v for k, v in data.items() if k not in ("id", "schedule")}
        graph = self.asset_graph
        if graph is None or graph.callable is None:
            return {"kind": "steps", "steps": {"count": 1, "every": "0s"}}
        return {"kind": "python", "callable": callable_path(graph.callable, "asset_graph")}


def _timing(definition: Definition) -> dict[str, Any]:
    if isinstance(definition, CronSchedule):
        return {"cron": definition.cron_expression}
    if isinstance(definition, IntervalSchedule):
        interval = definition.interval
        return {
            "interval": format_duration(interval) if isinstance(interval, timedelta) else interval
        }
    event: dict[str, Any] = {"type": definition.event_type}
    if definition.debounce_seconds:
        event["debounce"] = format_duration(timedelta(seconds=definition.debounce_seconds))
    if definition.data_filter:
        event["filter"] = dict(definition.data_filter)
    if definition.event_filter is not None:
        event["filter_callable"] = callable_path(definition.event_filter, "event_filter")
    return {"event": event}


def callable_path(func: Callable[..., Any] | str, field: str) -> str:
    """``package.module:function`` for a function another process can import."""
    if isinstance(func, str):
        return func
    module, name = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or module == "__main__" or "<" in name or not inspect.isfunction(func):
        raise InvalidInput(
            field,
            "must be a module-level function of an importable module (or "
            '"package.module:function"): its import path is what is stored',
        )
    return f"{module}:{name}"
