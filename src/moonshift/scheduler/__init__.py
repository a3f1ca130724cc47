"""The Python scheduler API: ``from moonshift.scheduler import Scheduler, Schedule, ...``."""

from moonshift.app import SchedulerConfig, ScheduleStatus, TriggerType
from moonshift.scheduler.api import BackfillResult, Scheduler
from moonshift.scheduler.schedules import (
    AssetGraph,
    CronSchedule,
    EventTrigger,
    IntervalSchedule,
    Schedule,
    ScheduleType,
    TriggerEvent,
)

__all__ = [
    "AssetGraph",
    "BackfillResult",
    "CronSchedule",
    "EventTrigger",
    "IntervalSchedule",
    "Schedule",
    "ScheduleStatus",
    "ScheduleType",
    "Scheduler",
    "SchedulerConfig",
    "TriggerEvent",
    "TriggerType",
]
