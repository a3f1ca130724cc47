"""The Python scheduler API (a face over the application layer), end to end on SQLite."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from moonshift.errors import InvalidInput
from moonshift.scheduler import BackfillResult, Scheduler, SchedulerConfig, ScheduleStatus

DAILY = "id: daily\nkind: steps\nsteps: {count: 1, every: 1s}\nschedule: {cron: '0 3 * * *'}\n"


@pytest.mark.slow
def test_schedules_events_and_a_backfill_the_scheduler_runs(tmp_path: Path) -> None:
    scheduler = Scheduler(
        SchedulerConfig(check_interval_seconds=1, poll_seconds=0.2),
        state=f"sqlite:///{tmp_path / 'state.db'}",
        home=tmp_path / "home",
        actor="user:test",
    )
    assert scheduler.add_schedule(DAILY).action == "created"
    assert [s.migration_id for s in scheduler.list_schedules(ScheduleStatus.ACTIVE)] == ["daily"]
    assert scheduler.pause_schedule("daily").status is ScheduleStatus.PAUSED
    assert scheduler.resume_schedule("daily").status is ScheduleStatus.ACTIVE
    assert scheduler.trigger_event("nobody_listens")[0].outcome == "unmatched"
    with pytest.raises(InvalidInput, match="end: must be after start"):
        scheduler.create_backfill("daily", date(2026, 1, 2), date(2026, 1, 1))
    backfill = scheduler.create_backfill("daily", date(2026, 1, 1), date(2026, 1, 2))
    assert backfill.runs == 2
    scheduler.start()
    results: list[BackfillResult] = []
    waiting = threading.Thread(
        target=lambda: results.append(scheduler.execute_backfill(backfill.id)), daemon=True
    )
    waiting.start()
    waiting.join(120)
    scheduler.stop()
    assert results == [BackfillResult(backfill.id, 2, 0)]
    assert {e.outcome for e in scheduler.store.get_events("daily")} >= {"paused", "resumed"}
