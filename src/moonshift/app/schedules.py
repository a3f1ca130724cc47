"""Schedules: pause and resume, what fires next and where windows open, and events that
start migrations."""

from __future__ import annotations

import builtins
from datetime import datetime

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict
from moonshift.store.records import MigrationRecord, ScheduleStatus, Trigger, TriggerEvent
from moonshift.store.scheduling import NewRun
from moonshift.timing import Event, Once, StartDecision, plan_next


def first_fire(spec: MigrationSpec, now: datetime) -> datetime | None:
    """When a (re)scheduled migration first fires: now for immediate, None for events."""
    trigger = spec.trigger()
    if spec.schedule is not None and spec.schedule.immediate:
        return now
    if trigger is None or isinstance(trigger, Event):
        return None
    if isinstance(trigger, Once):
        return trigger.instant
    return trigger.next_fire(now)


def sync_schedule(ctx: Context, record: MigrationRecord, *, reschedule: bool) -> None:
    """Keep the migration's schedule row in step with its spec and enabled flag.

    An unchanged schedule keeps its next fire time, so re-applying never shifts it.
    """
    store = ctx.store
    spec = MigrationSpec.model_validate(record.spec)
    if record.deleted_at is not None or spec.schedule is None:
        store.drop_schedule(record.id)
        return
    now = ctx.clock.now()
    existing = store.get_schedule(record.id)
    status = ScheduleStatus.ACTIVE if record.enabled else ScheduleStatus.DISABLED
    if existing and not reschedule:
        if existing.status is ScheduleStatus.PAUSED and record.enabled:
            status = ScheduleStatus.PAUSED
        if existing.status is ScheduleStatus.COMPLETED:
            status = ScheduleStatus.COMPLETED
        store.put_schedule(
            record.id,
            status=status,
            next_fire_at=existing.next_fire_at,
            spec_version=record.version,
            now=now,
        )
        return
    store.put_schedule(
        record.id,
        status=status,
        next_fire_at=first_fire(spec, now),
        spec_version=record.version,
        now=now,
        keep_last_fire=False,
    )


class Schedules(Family):
    def get(self, migration_id: str) -> views.Schedule | None:
        found = self.store.get_schedule(migration_id)
        return None if found is None else views.Schedule.model_validate(found)

    def list(self, status: ScheduleStatus | None = None) -> builtins.list[views.Schedule]:
        return [views.Schedule.model_validate(s) for s in self.store.list_schedules(status)]

    def set_paused(self, migration_id: str, paused: bool, *, actor: str) -> views.Schedule:
        """Pause a schedule (its fires are not run) or resume it from now."""
        schedule = self.store.get_schedule(migration_id)
        if schedule is None:
            raise Conflict(f'migration "{migration_id}" has no schedule')
        record = self.store.get_migration(migration_id)
        now = self.ctx.clock.now()
        spec = self.ctx.spec_of(migration_id)
        self.store.record_event(
            now=now,
            migration_id=migration_id,
            event_type="schedule",
            outcome="paused" if paused else "resumed",
            reason=f"by {actor}",
        )
        schedule = self.store.put_schedule(
            migration_id,
            status=ScheduleStatus.PAUSED if paused else ScheduleStatus.ACTIVE,
            next_fire_at=schedule.next_fire_at if paused else first_fire(spec, now),
            spec_version=record.version,
            now=now,
        )
        self.store.announce()
        return views.Schedule.model_validate(schedule)

    def upcoming(self, migration_id: str, *, count: int = 10) -> views.Upcoming:
        """The next ``count`` fires with where each may start, and the next window openings."""
        spec = self.ctx.spec_of(migration_id)
        now = self.ctx.clock.now()
        trigger, windows = spec.trigger(), spec.window_set()
        decisions: builtins.list[StartDecision] = []
        after = now
        while trigger is not None and len(decisions) < count:
            decision = plan_next(trigger, windows, spec.behavior(), after)
            if decision is None:
                break
            decisions.append(decision)
            after = decision.due
        return views.Upcoming(
            timezone=spec.timezone,
            schedule=spec.schedule.kind if spec.schedule else None,
            decisions=[views.StartDecision.model_validate(d) for d in decisions],
            windows=[views.WindowSpan.model_validate(s) for s in windows.upcoming(now, count)]
            if windows
            else [],
            open_now=views.WindowSpan.model_validate(current)
            if windows and (current := windows.current(now))
            else None,
        )

    def windows(self, migration_id: str, *, count: int = 10) -> views.Windows:
        """Whether a window is open now, and the next openings and closings."""
        up = self.upcoming(migration_id, count=count)
        return views.Windows(
            timezone=up.timezone,
            open_now=up.open_now,
            windows=up.windows,
            defined=bool(self.ctx.spec_of(migration_id).windows),
        )

    # -- events ---------------------------------------------------------------------------

    def trigger_event(
        self, event_type: str, payload: dict[str, object] | None = None, *, actor: str
    ) -> builtins.list[views.TriggerEvent]:
        """Start the migrations whose event schedule matches; ``debounce`` folds a burst."""
        now, payload = self.ctx.clock.now(), payload or {}
        recorded = []
        for record in self.store.list_migrations():
            trigger = MigrationSpec.model_validate(record.spec).trigger()
            if not isinstance(trigger, Event) or not record.enabled:
                continue
            if not trigger.matches(event_type, payload):
                continue
            recorded.append(self._event_run(record.id, trigger, event_type, payload, actor, now))
        if not recorded:
            recorded.append(
                self.store.record_event(
                    now=now,
                    event_type=event_type,
                    outcome="unmatched",
                    payload=payload,
                    reason="no migration's event schedule matches",
                )
            )
        self.store.announce()
        return [views.TriggerEvent.model_validate(e) for e in recorded]

    def _event_run(
        self,
        migration_id: str,
        trigger: Event,
        event_type: str,
        payload: dict[str, object],
        actor: str,
        now: datetime,
    ) -> TriggerEvent:
        pending = [
            r
            for r in self.store.list_runs(migration_id, states=[State.CREATED])
            if r.trigger is Trigger.EVENT
        ]
        if trigger.debounce and pending:
            return self.store.record_event(
                now=now,
                event_type=event_type,
                outcome="debounced",
                migration_id=migration_id,
                payload=payload,
                run_id=pending[0].id,
                reason=f"folded into run {pending[0].id}",
            )
        not_before = now + trigger.debounce if trigger.debounce else None
        new = NewRun(
            now,
            Trigger.EVENT,
            logical_date=now,
            not_before=not_before,
            reason=f"event {event_type} from {actor}",
        )
        runs = self.store.add_runs(migration_id, [new], actor=actor, now=now)
        run_id = runs[0].id if runs else None
        return self.store.record_event(
            now=now,
            event_type=event_type,
            outcome="started",
            migration_id=migration_id,
            payload=payload,
            run_id=run_id,
            reason=f"run {run_id}",
        )

    def events(
        self, migration_id: str | None = None, *, limit: int = 100
    ) -> builtins.list[views.TriggerEvent]:
        """Trigger events, newest first: what fired, was skipped, dropped or debounced."""
        return [
            views.TriggerEvent.model_validate(e)
            for e in self.store.get_events(migration_id, limit=limit)
        ]

    def last_event(self, migration_id: str) -> views.TriggerEvent | None:
        found = self.store.get_last_event(migration_id)
        return None if found is None else views.TriggerEvent.model_validate(found)
