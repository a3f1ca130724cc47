"""The Python API of seed 004: ``Scheduler`` with schedules, events and backfills.

A face over the application layer, like the CLI; it holds no rules of its own.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from moonshift.app import Moonshift, SchedulerConfig, ScheduleStatus, Settings, current_user, views
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Unavailable
from moonshift.scheduler.schedules import Schedule, TriggerEvent


@dataclass(frozen=True)
class BackfillResult:
    backfill_id: int
    tasks_succeeded: int
    tasks_failed: int


class EventLog:
    """``scheduler.store``: the seed's event history calls."""

    def __init__(self, app: Moonshift) -> None:
        self.app = app

    def get_events(
        self, schedule_id: str | None = None, limit: int = 100
    ) -> list[views.TriggerEvent]:
        return self.app.schedules.events(schedule_id, limit=limit)

    def get_last_event(self, schedule_id: str) -> views.TriggerEvent | None:
        return self.app.schedules.last_event(schedule_id)


class Scheduler:
    def __init__(
        self,
        config: SchedulerConfig | None = None,
        *,
        state: str | None = None,
        home: str | Path | None = None,
        actor: str | None = None,
    ) -> None:
        self.config = config or SchedulerConfig()
        self.app = Moonshift(Settings.from_env(state=state, home=home))
        self.actor = actor or current_user()
        self.store = EventLog(self.app)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Run the scheduling loop in a background thread of this process; returns once it
        is up, or raises what kept it from starting (Conflict: another daemon holds this
        SQLite state file).

        Its workers are processes that import moonshift, never your script, so a script
        needs no ``if __name__ == "__main__":`` guard."""
        if self.is_running():
            return
        self._stop.clear()
        self._failure = None
        self._thread = threading.Thread(target=self._loop, name="moonshift-scheduler", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.app.daemons.up(os.getpid()):
            if not self._thread.is_alive():
                self._thread = None
                raise self._failure or Unavailable("the scheduler stopped as it started")
            if time.monotonic() > deadline:
                raise Unavailable(f"the scheduler did not start within {timeout:g}s")
            time.sleep(0.05)

    def _loop(self) -> None:
        try:
            self.app.daemons.run(self.config, stop=self._stop)
        except BaseException as exc:  # start() raises it in the caller's thread
            self._failure = exc

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add_schedule(
        self, schedule: Schedule | MigrationSpec | dict[str, Any] | str
    ) -> views.Applied:
        """Add or update a schedule: a ``Schedule``, or a migration spec with its schedule
        (a spec, a dict, or YAML text)."""
        if isinstance(schedule, str):
            return self.app.migrations.apply_text(schedule, actor=self.actor)
        if isinstance(schedule, Schedule):
            return self.app.migrations.apply_data(schedule.to_spec(), actor=self.actor)
        if isinstance(schedule, dict):
            return self.app.migrations.apply_data(schedule, actor=self.actor)
        return self.app.migrations.apply_spec(schedule, actor=self.actor)

    def get_schedule(self, schedule_id: str) -> views.Schedule | None:
        return self.app.schedules.get(schedule_id)

    def list_schedules(self, status: ScheduleStatus | None = None) -> list[views.Schedule]:
        return self.app.schedules.list(status)

    def pause_schedule(self, schedule_id: str) -> views.Schedule:
        return self.app.schedules.set_paused(schedule_id, True, actor=self.actor)

    def resume_schedule(self, schedule_id: str) -> views.Schedule:
        return self.app.schedules.set_paused(schedule_id, False, actor=self.actor)

    def delete_schedule(self, schedule_id: str, *, force: bool = False) -> list[int]:
        return self.app.migrations.delete(schedule_id, actor=self.actor, force=force).cancelled_runs

    def trigger_event(
        self, event: TriggerEvent | str, event_data: dict[str, Any] | None = None
    ) -> list[views.TriggerEvent]:
        """Submit an event (a ``TriggerEvent``, or its type and data): the event schedules it
        matches start a run; what happened to it is in ``store.get_events``."""
        if isinstance(event, str):
            event = TriggerEvent(event_type=event, event_data=event_data or {})
        return self.app.schedules.trigger_event(
            event.event_type, dict(event.event_data), actor=self.actor, source=event.source
        )

    def create_backfill(
        self,
        schedule_id: str,
        start_date: date | datetime,
        end_date: date | datetime,
        *,
        timezone: str | None = None,
        parallel: bool = False,
        max_parallel: int = 5,
        reprocess: str = "missing",
        max_runs: int = 10_000,
    ) -> views.Backfill:
        """Queue a run for each fire of the schedule in the range (dates: whole days, the end
        day included, in ``timezone``, by default the schedule's); ``execute_backfill`` runs
        them. At most ``max_runs`` (10,000); event schedules cannot be backfilled."""
        return self.app.backfills.create(
            schedule_id,
            start_date,
            end_date,
            actor=self.actor,
            parallel=max_parallel if parallel else 1,
            reprocess=reprocess,
            max_runs=max_runs,
            require_daemon=False,
            timezone=timezone,
        )

    def execute_backfill(self, backfill_id: int) -> BackfillResult:
        """Run a backfill to its end: its runs are executed by this scheduler (started for the
        while if neither it nor a daemon runs), obeying windows and concurrency limits;
        Unavailable, instead of waiting for ever, if no daemon is left to execute them."""
        started_here = not self.is_running() and not self.app.daemons.status().live
        if started_here:
            self.start()
        try:
            result = self.app.backfills.wait(backfill_id, require_daemon=True)
        finally:
            if started_here:
                self.stop()
        return BackfillResult(backfill_id, result.succeeded, result.failed)
