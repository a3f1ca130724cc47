"""The numbers a metrics scrape shows, read from the state store at that moment: every API
process answers the same."""

from __future__ import annotations

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain import lifecycle
from moonshift.domain.copy_spec import Mode
from moonshift.domain.progress import Progress
from moonshift.domain.spec import MigrationSpec
from moonshift.store.records import ScheduleStatus


class Metrics(Family):
    def snapshot(self) -> views.Metrics:
        now = self.ctx.clock.now()
        latest = self.store.latest_runs()
        copies, windows_open, lag = [], {}, {}
        for record in self.store.list_migrations():
            spec = MigrationSpec.model_validate(record.spec)
            windows = spec.window_set()
            if windows is not None:
                windows_open[record.id] = windows.current(now) is not None
            run = latest.get(record.id)
            if spec.kind == "copy" and run is not None:
                progress = run.progress or Progress()
                copies.append(
                    views.CopyNumbers(
                        migration_id=record.id, run=run.id, state=run.state, progress=progress
                    )
                )
            if spec.kind == "copy" and spec.copy_spec.mode is Mode.INCREMENTAL:
                good = self.store.list_runs(record.id, limit=1, states=sorted(lifecycle.SUCCEEDED))
                if good and good[0].started_at is not None:
                    lag[record.id] = (now - good[0].started_at).total_seconds()
        overdue = [
            (now - s.next_fire_at).total_seconds()
            for s in self.store.list_schedules(ScheduleStatus.ACTIVE)
            if s.next_fire_at is not None and s.next_fire_at < now
        ]
        return views.Metrics(
            runs_by_state=self.store.count_runs_by_state(),
            copies=copies,
            open_errors=self.store.open_copy_error_counts(),
            windows_open=windows_open,
            incremental_lag_seconds=lag,
            scheduler_lateness_seconds=max(overdue, default=0.0),
            daemons=len(self.store.live_daemons(now)),
        )
