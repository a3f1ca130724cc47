"""The Python scheduler API (seed 004): ``from moonshift.scheduler import Scheduler``."""

from moonshift.app import SchedulerConfig, ScheduleStatus
from moonshift.scheduler.api import BackfillResult, Scheduler

__all__ = ["BackfillResult", "ScheduleStatus", "Scheduler", "SchedulerConfig"]
