"""moonshift's timing core: triggers, cron, maintenance windows and the DST rule.

Pure: no I/O and no clock reads; every function that needs "now" takes it.
"""

from moonshift.timing.cronexpr import CronError
from moonshift.timing.decisions import (
    ClosedNow,
    OutsideWindow,
    StartAction,
    StartDecision,
    WindowBehavior,
    closed_now,
    decide_start,
    plan_next,
)
from moonshift.timing.triggers import Cron, Event, Interval, Once, Trigger
from moonshift.timing.windows import Window, WindowSet, WindowSpan
from moonshift.timing.zones import UnknownZoneError, WallKind, get_zone, resolve

__all__ = [
    "ClosedNow",
    "Cron",
    "CronError",
    "Event",
    "Interval",
    "Once",
    "OutsideWindow",
    "StartAction",
    "StartDecision",
    "Trigger",
    "UnknownZoneError",
    "WallKind",
    "Window",
    "WindowBehavior",
    "WindowSet",
    "WindowSpan",
    "closed_now",
    "decide_start",
    "get_zone",
    "plan_next",
    "resolve",
]
