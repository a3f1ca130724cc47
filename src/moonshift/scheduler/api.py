"""The Python API of seed 004: ``Scheduler`` with schedules, events and backfills.

A face over the same application layer as the CLI; it holds no rules of its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from moonshift.domain.spec import MigrationSpec
from moonshift.scheduler.daemon import run_daemon
from moonshift.scheduler.engine import SchedulerConfig
from moonshift.service import ApplyResult, Backfills, Moonshift, Settings, current_user
from moonshift.specfile import load_text
from moonshift.store.records import BackfillRecord, ScheduleRecord, ScheduleStatus, TriggerEvent

__all__ = ["BackfillResult", "ScheduleStatus", "Scheduler", "SchedulerConfig"]


@dataclass(frozen=True)
class BackfillResult:
    backfill_id: int
    tasks_succeeded: int
    tasks_failed: int


class EventLog:
    """``scheduler.store``: the seed's event history calls."""

    def __init__(self, app: Moonshift) -> None:
        self.app = app

    def get_events(self, schedule_id: str | None = None, limit: int = 100) -> list[TriggerEvent]:
        return self.app.store.get_events(schedule_id, limit=limit)

    def get_last_event(self, schedule_id: str) -> TriggerEvent | None:
        return self.app.store.get_last_event(schedule_id)


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

    def start(self) -> None:
        """Run the scheduling loop in a background thread of this process."""
        if self.is_running():
            return
        self._stop.clear()
        settings = self.app.settings
        self._thread = threading.Thread(
            target=run_daemon,
            args=(settings.state_url, settings.home, self.config),
            kwargs={"stop": self._stop},
            name="moonshift-scheduler",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add_schedule(self, schedule: MigrationSpec | dict[str, Any] | str) -> ApplyResult:
        """Add or update a migration with its schedule (a spec, a dict, or YAML text)."""
        if isinstance(schedule, str):
            [schedule] = load_text(schedule)
        elif isinstance(schedule, dict):
            schedule = MigrationSpec.model_validate(schedule)
        return self.app.apply_spec(schedule, actor=self.actor)

    def get_schedule(self, schedule_id: str) -> ScheduleRecord | None:
        return self.app.store.get_schedule(schedule_id)

    def list_schedules(self, status: ScheduleStatus | None = None) -> list[ScheduleRecord]:
        return self.app.store.list_schedules(status)

    def pause_schedule(self, schedule_id: str) -> ScheduleRecord:
        return self.app.set_schedule_paused(schedule_id, True, actor=self.actor)

    def resume_schedule(self, schedule_id: str) -> ScheduleRecord:
        return self.app.set_schedule_paused(schedule_id, False, actor=self.actor)

    def delete_schedule(self, schedule_id: str, *, force: bool = False) -> list[int]:
        return self.app.delete(schedule_id, actor=self.actor, force=force)

    def trigger_event(
        self, event_type: str, event_data: dict[str, Any] | None = None
    ) -> list[TriggerEvent]:
        return self.app.trigger_event(event_type, event_data, actor=self.actor)

    def create_backfill(
        self,
        schedule_id: str,
        start_date: date | datetime,
        end_date: date | datetime,
        *,
        parallel: bool = False,
        max_parallel: int = 5,
        reprocess: str = "missing",
        max_runs: int = 10_000,
    ) -> BackfillRecord:
        backfills = Backfills(self.app)
        plan = backfills.plan(
            schedule_id, start_date, end_date, reprocess=reprocess, max_runs=max_runs
        )
        return backfills.create(
            plan, parallel=max_parallel if parallel else 1, reprocess=reprocess, actor=self.actor
        )

    def execute_backfill(self, backfill_id: int) -> BackfillResult:
        """Wait for a backfill's runs (the scheduler, or another daemon, executes them)."""
        counts = Backfills(self.app).wait(backfill_id)
        return BackfillResult(
            backfill_id,
            counts.get("completed", 0) + counts.get("certified", 0),
            counts.get("failed", 0) + counts.get("cancelled", 0),
        )
