"""Schedules: pause and resume, what fires next and where windows open, and events that
start migrations."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.app.plans import spec_changed
from moonshift.domain.events import IncomingEvent
from moonshift.domain.lifecycle import State
from moonshift.domain.schedule import SCHEDULE_KINDS
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict, InvalidInput, NotFound
from moonshift.jobs.python import load_callable
from moonshift.specfile import load_document
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


def save_spec(
    ctx: Context,
    spec: MigrationSpec,
    *,
    actor: str,
    source_file: str | None = None,
    expect: tuple[int, datetime] | None = None,
) -> views.Applied:
    """Store a validated spec (a new version when it changed) and keep its schedule in step.
    ``expect``: the (version, updated_at) it was read at; PreconditionFailed if it moved."""
    missing = [
        (path, name)
        for path, name in spec.connection_names().items()
        if name not in ctx.store.connection_urls([name])
    ]
    if missing:
        raise InvalidInput(missing[0][0], f'no connection "{missing[0][1]}"')
    record, action, changed = ctx.store.apply_migration(
        spec.canonical(), actor=actor, now=ctx.clock.now(), source_file=source_file, expect=expect
    )
    notes: list[str] = []
    if action != "unchanged":
        scheduling = ("schedule", "enabled")
        moved = action != "updated" or any(c.split(".")[0] in scheduling for c in changed)
        sync_schedule(ctx, record, reschedule=moved)
        notes = spec_changed(ctx, record.id, record.version, actor)
        ctx.store.announce()
    return views.Applied(
        id=record.id, action=action, version=record.version, changed=changed, notes=notes
    )


def _filtered_out(spec: MigrationSpec, event: IncomingEvent) -> str | None:
    """Why the schedule's filter function turns the event down; None when it takes it."""
    event_spec = spec.schedule.event if spec.schedule else None
    path = event_spec.filter_callable if event_spec else None
    if path is None:
        return None
    try:
        taken = load_callable(path, "schedule.event.filter_callable")(event)
    except Exception as exc:  # the user's function: whatever it raises turns the event down
        return f"filter {path} raised {type(exc).__name__}: {exc}"
    return None if taken else f"filter {path} turned it down"


def validated(data: dict[str, Any]) -> MigrationSpec:
    """A spec from data, checked as a spec file is (InvalidInput naming the field)."""
    loaded = load_document(json.dumps(data, default=str), name="<request>", env={})
    if len(loaded.specs) != 1:
        raise InvalidInput(None, "must be one migration")
    return loaded.specs[0].spec


class Schedules(Family):
    def detail(self, migration_id: str) -> views.ScheduleDetail:
        """The schedule as the spec gives it and where it stands; NotFound without one."""
        spec = self.ctx.spec_of(migration_id)
        if spec.schedule is None:
            raise NotFound(f'migration "{migration_id}" has no schedule')
        row = self.store.get_schedule(migration_id)
        return views.ScheduleDetail(
            migration_id=migration_id,
            kind=spec.schedule.kind,
            schedule=self.store.get_migration(migration_id).spec["schedule"],
            timezone=spec.schedule.timezone,
            status=row.status if row else None,
            next_fire_at=row.next_fire_at if row else None,
            last_fire_at=row.last_fire_at if row else None,
        )

    def set(
        self, migration_id: str, schedule: dict[str, Any], *, actor: str, merge: bool = False
    ) -> views.ScheduleDetail:
        """Give a migration this schedule (a new version of its spec); ``merge`` changes only
        the keys given (another kind replaces the old one: ``start_at`` for a ``cron``)."""
        record = self.store.get_migration(migration_id)
        spec = dict(record.spec)
        if merge:
            old = dict(spec.get("schedule") or {})
            if set(schedule) & set(SCHEDULE_KINDS):
                old = {k: v for k, v in old.items() if k not in (*SCHEDULE_KINDS, "anchor")}
            schedule = {**old, **schedule}
        spec["schedule"] = {k: v for k, v in schedule.items() if v is not None}
        save_spec(self.ctx, validated(spec), actor=actor)
        return self.detail(migration_id)

    def cancel(self, migration_id: str, *, actor: str) -> views.Applied:
        """Take the schedule away (a new version of the spec): nothing fires any more."""
        record = self.store.get_migration(migration_id)
        if "schedule" not in record.spec:
            raise NotFound(f'migration "{migration_id}" has no schedule')
        spec = {k: v for k, v in record.spec.items() if k != "schedule"}
        return save_spec(self.ctx, validated(spec), actor=actor)

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
        self,
        event_type: str,
        payload: dict[str, object] | None = None,
        *,
        actor: str,
        source: str | None = None,
    ) -> builtins.list[views.TriggerEvent]:
        """Start the migrations whose event schedule matches (its type, its ``filter`` keys,
        its ``filter_callable``); ``debounce`` folds a burst. ``source``: where it came from."""
        now, payload = self.ctx.clock.now(), payload or {}
        event = IncomingEvent(event_type=event_type, event_data=payload, source=source or actor)
        recorded = []
        for record in self.store.list_migrations():
            spec = MigrationSpec.model_validate(record.spec)
            trigger = spec.trigger()
            if not isinstance(trigger, Event) or not record.enabled:
                continue
            if not trigger.matches(event_type, payload):
                continue
            refused = _filtered_out(spec, event)
            if refused is not None:
                recorded.append(
                    self.store.record_event(
                        now=now,
                        event_type=event_type,
                        outcome="filtered",
                        migration_id=record.id,
                        payload=payload,
                        reason=refused,
                    )
                )
                continue
            recorded.append(self._event_run(record.id, trigger, event, actor, now))
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
        event: IncomingEvent,
        actor: str,
        now: datetime,
    ) -> TriggerEvent:
        event_type, payload = event.event_type, dict(event.event_data)
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
            reason=f"event {event_type} from {event.source}",
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
