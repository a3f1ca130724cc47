"""The application layer: every use case, called alike by the CLI, the API and Python code."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
import time as wallclock
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from moonshift.clock import Clock, SystemClock
from moonshift.domain import lifecycle
from moonshift.domain.dag import find_cycle
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import InputError, NotFoundError, OperationFailedError
from moonshift.jobs.command import log_paths
from moonshift.scheduler.daemon import PidStatus, read_pid
from moonshift.specfile import LoadResult, SpecFileError, SpecProblem, load_files
from moonshift.store import AuditEntry, MigrationRecord, RunRecord, StateStore
from moonshift.store.listen import announce
from moonshift.store.records import (
    BackfillRecord,
    DaemonRecord,
    ScheduleRecord,
    ScheduleStatus,
    Trigger,
    TriggerEvent,
)
from moonshift.store.scheduling import NewRun
from moonshift.store.store import DuplicateRunError
from moonshift.timing import Event, Once, StartDecision, WindowSpan, get_zone, plan_next, resolve
from moonshift.worker.execute import LEASE, WorkerContext, execute_run, log_dir

IDLE = "idle"
_WORKERS: list[subprocess.Popen[bytes]] = []
STATUSES = (IDLE, *(s.value for s in State))


@dataclass(frozen=True)
class Settings:
    """Where state lives: ``home`` holds logs (and the SQLite file unless ``state_url`` says)."""

    state_url: str
    home: Path

    @classmethod
    def from_env(
        cls,
        state: str | None = None,
        home: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        environ = os.environ if environ is None else environ
        home_path = Path(home or environ.get("MOONSHIFT_HOME") or ".moonshift").absolute()
        url = state or environ.get("MOONSHIFT_STATE") or f"sqlite:///{home_path / 'state.db'}"
        return cls(state_url=url, home=home_path)


@dataclass(frozen=True)
class ApplyResult:
    migration: MigrationRecord
    action: str  # created, updated, restored, unchanged
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Upcoming:
    """A migration's timing at a glance: its zone, schedule kind and next decisions."""

    timezone: str
    schedule: str | None  # the schedule's kind, None when it has none
    decisions: list[StartDecision]
    windows: list[WindowSpan]
    open_now: WindowSpan | None


@dataclass(frozen=True)
class MigrationSummary:
    migration: MigrationRecord
    status: str
    last_run: RunRecord | None


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


def current_user() -> str:
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"user:uid-{os.getuid()}"


class Moonshift:
    """moonshift's use cases over one state store."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.environ = os.environ if environ is None else environ
        self._store: StateStore | None = None

    @property
    def store(self) -> StateStore:
        if self._store is None:
            self._store = StateStore.open(self.settings.state_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- specs ----------------------------------------------------------------------------

    def validate(self, paths: Iterable[str | Path]) -> LoadResult:
        """Check spec files without touching the state store."""
        return load_files(paths, self.environ)

    def apply(
        self, paths: Iterable[str | Path], *, actor: str
    ) -> tuple[list[ApplyResult], LoadResult]:
        """Validate every file first (dependencies too); only when all is well, write."""
        loaded = self.validate(paths)
        self._check_references(loaded)
        results = [
            self.apply_spec(item.spec, actor=actor, source_file=item.file) for item in loaded.specs
        ]
        return results, loaded

    def _check_references(self, loaded: LoadResult) -> None:
        """Dependencies and exclusions must name migrations that exist; no cycles."""
        graph = self.dependency_graph()
        known = set(graph)
        for item in loaded.specs:
            graph[item.spec.id] = [d.migration for d in item.spec.depends_on]
            known.add(item.spec.id)
        problems = []
        for item in loaded.specs:
            for key in ("depends_on", "exclude_concurrent"):
                for i, ref in enumerate(getattr(item.spec, key)):
                    if ref.migration not in known:
                        problems.append(
                            SpecProblem(
                                item.file,
                                item.line,
                                f"{key}[{i}].migration",
                                f'no migration "{ref.migration}"',
                            )
                        )
        cycle = find_cycle(graph)
        if cycle:
            where = next((i for i in loaded.specs if i.spec.id in cycle), None)
            problems.append(
                SpecProblem(
                    where.file if where else "-",
                    where.line if where else None,
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                )
            )
        if problems:
            raise SpecFileError(problems)

    def dependency_graph(self) -> dict[str, list[str]]:
        return {
            m.id: [d["migration"] for d in m.spec.get("depends_on", [])]
            for m in self.store.list_migrations()
        }

    def apply_spec(
        self, spec: MigrationSpec, *, actor: str, source_file: str | None = None
    ) -> ApplyResult:
        record, action, changed = self.store.apply_migration(
            spec.canonical(), actor=actor, now=self.clock.now(), source_file=source_file
        )
        if action != "unchanged":
            scheduling = ("schedule", "enabled")
            moved = action != "updated" or any(c.split(".")[0] in scheduling for c in changed)
            self._sync_schedule(record, reschedule=moved)
            announce(self.store.engine)
        return ApplyResult(record, action, changed)

    def _sync_schedule(self, record: MigrationRecord, *, reschedule: bool) -> None:
        """Keep the migration's schedule row in step with its spec and enabled flag.

        An unchanged schedule keeps its next fire time, so re-applying never shifts it.
        """
        spec = MigrationSpec.model_validate(record.spec)
        if record.deleted_at is not None or spec.schedule is None:
            self.store.drop_schedule(record.id)
            return
        now = self.clock.now()
        existing = self.store.get_schedule(record.id)
        status = ScheduleStatus.ACTIVE if record.enabled else ScheduleStatus.DISABLED
        if existing and not reschedule:
            if existing.status is ScheduleStatus.PAUSED and record.enabled:
                status = ScheduleStatus.PAUSED
            if existing.status is ScheduleStatus.COMPLETED:
                status = ScheduleStatus.COMPLETED
            self.store.put_schedule(
                record.id,
                status=status,
                next_fire_at=existing.next_fire_at,
                spec_version=record.version,
                now=now,
            )
            return
        self.store.put_schedule(
            record.id,
            status=status,
            next_fire_at=first_fire(spec, now),
            spec_version=record.version,
            now=now,
            keep_last_fire=False,
        )

    # -- migrations -----------------------------------------------------------------------

    def list_migrations(
        self, *, status: str | None = None, tag: str | None = None
    ) -> list[MigrationSummary]:
        if status is not None and status not in STATUSES:
            raise InputError(f'--status: unknown status "{status}"; one of {", ".join(STATUSES)}')
        latest = self.store.latest_runs()
        summaries = [
            MigrationSummary(
                m, latest[m.id].state.value if m.id in latest else IDLE, latest.get(m.id)
            )
            for m in self.store.list_migrations()
        ]
        return [
            s
            for s in summaries
            if (status is None or s.status == status) and (tag is None or tag in s.migration.tags)
        ]

    def get_migration(self, migration_id: str) -> MigrationRecord:
        return self.store.get_migration(migration_id)

    def spec_of(self, migration_id: str) -> MigrationSpec:
        return MigrationSpec.model_validate(self.get_migration(migration_id).spec)

    def set_enabled(self, migration_id: str, enabled: bool, *, actor: str) -> MigrationRecord:
        before = self.store.get_migration(migration_id)
        record = self.store.set_enabled(migration_id, enabled, actor=actor, now=self.clock.now())
        if before.enabled != record.enabled:
            self._sync_schedule(record, reschedule=True)
            announce(self.store.engine)
        return record

    def delete(self, migration_id: str, *, actor: str, force: bool = False) -> list[int]:
        now = self.clock.now()
        cancelled = self.store.delete_migration(migration_id, actor=actor, now=now, force=force)
        self.store.drop_schedule(migration_id)
        return cancelled

    def set_schedule_paused(self, migration_id: str, paused: bool, *, actor: str) -> ScheduleRecord:
        """Pause a schedule (its fires are not run) or resume it from now."""
        schedule = self.store.get_schedule(migration_id)
        if schedule is None:
            raise InputError(f'migration "{migration_id}" has no schedule')
        record = self.store.get_migration(migration_id)
        now = self.clock.now()
        status = ScheduleStatus.PAUSED if paused else ScheduleStatus.ACTIVE
        spec = self.spec_of(migration_id)
        next_fire = schedule.next_fire_at if paused else first_fire(spec, now)
        self.store.record_event(
            now=now,
            migration_id=migration_id,
            event_type="schedule",
            outcome="paused" if paused else "resumed",
            reason=f"by {actor}",
        )
        schedule = self.store.put_schedule(
            migration_id,
            status=status,
            next_fire_at=next_fire,
            spec_version=record.version,
            now=now,
        )
        announce(self.store.engine)
        return schedule

    def start(self, migration_id: str, *, actor: str) -> RunRecord:
        """Record a MANUAL run for a daemon to start at once (the seed's immediate start)."""
        self.store.get_migration(migration_id)
        if not self.store.live_daemons(self.clock.now()):
            raise OperationFailedError(
                "no moonshift daemon is running: start one with `moonshift daemon --detach`, "
                f"or run in the foreground with `moonshift run-now {migration_id} --wait`"
            )
        run = self.run_now(migration_id, actor=actor, how="start")
        announce(self.store.engine)
        return run

    def trigger_event(
        self, event_type: str, payload: dict[str, object] | None = None, *, actor: str
    ) -> list[TriggerEvent]:
        """Start the migrations whose event schedule matches; ``debounce`` folds a burst."""
        now, payload = self.clock.now(), payload or {}
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
        announce(self.store.engine)
        return recorded

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

    # -- runs -----------------------------------------------------------------------------

    def run_now(self, migration_id: str, *, actor: str, how: str = "run-now") -> RunRecord:
        """Record a MANUAL run of a migration; it is executed by ``execute_run`` or a worker."""
        now = self.clock.now()
        # A manual run's nominal time is only its request time: two requests in the same
        # microsecond are two runs, so step past an instant already taken.
        for step in range(100):
            try:
                return self.store.create_run(
                    migration_id,
                    trigger=Trigger.MANUAL,
                    nominal_time=now + timedelta(microseconds=step),
                    actor=actor,
                    now=now,
                    reason=f"{how} by {actor}",
                )
            except DuplicateRunError:
                continue
        raise OperationFailedError(f'too many manual runs of "{migration_id}" at {now.isoformat()}')

    def execute_run(self, run_id: int, *, owner: str | None = None) -> RunRecord:
        """Execute a run in this process (the foreground way: ``run-now --wait``).

        Without ``owner`` it first claims the run, so that no daemon starts it too; when a
        daemon got there first, it follows the run instead.
        """
        actor = f"worker:{socket.gethostname()}:{os.getpid()}"
        if owner is None:
            now = self.clock.now()
            if not self.store.claim_run(run_id, owner=actor, lease_until=now + LEASE, now=now):
                return self.wait_for(run_id)
        ctx = WorkerContext(self.store, self.settings.home, self.clock, self.environ, actor)
        return execute_run(ctx, run_id)

    def start_worker(self, run_id: int) -> int:
        """Execute a run in a detached worker process; returns its pid."""
        self.store.get_run(run_id)
        out = self.settings.home / "logs" / "workers"
        out.mkdir(parents=True, exist_ok=True)
        env = {
            **self.environ,
            "MOONSHIFT_STATE": self.settings.state_url,
            "MOONSHIFT_HOME": str(self.settings.home),
        }
        with (out / f"{run_id}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moonshift.worker", str(run_id)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        # Keep the handle so that the finished worker is reaped, not left a zombie.
        _WORKERS[:] = [p for p in _WORKERS if p.poll() is None] + [process]
        return process.pid

    def get_run(self, run_id: int) -> RunRecord:
        return self.store.get_run(run_id)

    def list_runs(self, migration_id: str, *, limit: int = 20) -> list[RunRecord]:
        self.store.get_migration(migration_id, include_deleted=True)
        return self.store.list_runs(migration_id, limit=limit)

    def cancel_run(self, run_id: int, *, actor: str, reason: str | None = None) -> RunRecord:
        return self.store.transition_run(
            run_id,
            State.CANCELLED,
            actor=actor,
            now=self.clock.now(),
            reason=reason or f"cancelled by {actor}",
        )

    def log_file(self, run_id: int, stream: Literal["stdout", "stderr"] = "stdout") -> Path:
        run = self.store.get_run(run_id)
        stdout, stderr = log_paths(log_dir(self.settings.home, run.migration_id), run.id)
        path = stdout if stream == "stdout" else stderr
        if not path.exists():
            raise NotFoundError(f"run {run_id} has no {stream} log here ({path})")
        return path

    def wait_for(
        self,
        run_id: int,
        *,
        poll: float = 0.5,
        on_change: Callable[[RunRecord], None] | None = None,
    ) -> RunRecord:
        """Follow a run until it leaves the active states."""
        last: State | None = None
        while True:
            run = self.store.get_run(run_id)
            if run.state != last and on_change:
                on_change(run)
            last = run.state
            if run.state not in lifecycle.ACTIVE:
                return run
            self.clock.sleep(poll)

    # -- timing ---------------------------------------------------------------------------

    def upcoming(self, migration_id: str, *, count: int = 10) -> Upcoming:
        """The next ``count`` fires with where each may start, and the next window openings."""
        spec = self.spec_of(migration_id)
        now = self.clock.now()
        trigger, windows = spec.trigger(), spec.window_set()
        decisions: list[StartDecision] = []
        after = now
        while trigger is not None and len(decisions) < count:
            decision = plan_next(trigger, windows, spec.behavior(), after)
            if decision is None:
                break
            decisions.append(decision)
            after = decision.due
        spans = windows.upcoming(now, count) if windows else []
        open_now = windows.current(now) if windows else None
        kind = spec.schedule.kind if spec.schedule else None
        return Upcoming(spec.timezone, kind, decisions, spans, open_now)

    # -- history --------------------------------------------------------------------------

    def history(self, migration_id: str, *, limit: int = 100) -> list[AuditEntry]:
        """The audit log merged with the scheduler's events (dropped, skipped, warned...)."""
        self.store.get_migration(migration_id, include_deleted=True)
        entries = self.store.history(migration_id, limit=limit)
        events = [
            AuditEntry(
                id=-e.id,
                at=e.at,
                actor=str((e.payload or {}).get("actor") or "scheduler"),
                migration_id=e.migration_id,
                run_id=e.run_id,
                action=f"{e.event_type} {e.outcome}",
                from_state=None,
                to_state=None,
                reason=e.reason,
                details=e.payload,
            )
            for e in self.store.get_events(migration_id, limit=limit)
        ]
        return sorted(entries + events, key=lambda e: (e.at, e.id), reverse=True)[:limit]


@dataclass(frozen=True)
class DaemonStatus:
    pid_file: PidStatus  # this home's daemon, by its pid file
    live: list[DaemonRecord]  # every daemon heartbeating into this state store


class Daemons:
    """Starting, stopping and looking at daemons (the CLI's ``daemon`` commands)."""

    def __init__(self, app: Moonshift) -> None:
        self.app = app

    def status(self) -> DaemonStatus:
        home = self.app.settings.home
        return DaemonStatus(read_pid(home), self.app.store.live_daemons(self.app.clock.now()))

    def spawn(self, args: list[str]) -> int:
        """Start ``moonshift daemon ARGS`` detached; returns its pid once it is up."""
        current = read_pid(self.app.settings.home)
        if current.alive:
            raise OperationFailedError(f"a daemon is already running here (pid {current.pid})")
        logs = self.app.settings.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {
            **self.app.environ,
            "MOONSHIFT_STATE": self.app.settings.state_url,
            "MOONSHIFT_HOME": str(self.app.settings.home),
        }
        with (logs / "daemon.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moonshift.cli", "daemon", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        deadline = wallclock.monotonic() + 15
        while wallclock.monotonic() < deadline:
            if process.poll() is not None:
                raise OperationFailedError(f"the daemon exited at once; see {logs / 'daemon.log'}")
            if read_pid(self.app.settings.home).pid == process.pid:
                return process.pid
            wallclock.sleep(0.1)
        raise OperationFailedError(f"the daemon did not start in 15s; see {logs / 'daemon.log'}")

    def stop(self, *, timeout: float = 60.0) -> PidStatus:
        """SIGTERM this home's daemon and wait for it to exit; a stale pid file is removed."""
        status = read_pid(self.app.settings.home)
        if status.pid is None:
            raise OperationFailedError("no daemon is running here (no pid file)")
        if status.stale:
            status.path.unlink(missing_ok=True)
            return status
        assert status.pid is not None
        os.kill(status.pid, signal.SIGTERM)
        deadline = wallclock.monotonic() + timeout
        while wallclock.monotonic() < deadline and read_pid(self.app.settings.home).alive:
            wallclock.sleep(0.1)
        if read_pid(self.app.settings.home).alive:
            raise OperationFailedError(
                f"daemon pid {status.pid} did not stop within {timeout:.0f}s"
            )
        return status


@dataclass(frozen=True)
class BackfillPlan:
    migration_id: str
    start: datetime
    end: datetime
    fires: list[datetime]
    runs: list[NewRun]  # what it would create: new runs, and new attempts to re-process

    @property
    def already_done(self) -> int:
        return len(self.fires) - len(self.runs)


class Backfills:
    """Backfills: each nominal time in a range becomes a BACKFILL run with that logical date."""

    REPROCESS = ("missing", "failed", "all")

    def __init__(self, app: Moonshift) -> None:
        self.app = app

    def plan(
        self,
        migration_id: str,
        start: date | datetime,
        end: date | datetime,
        *,
        reprocess: str = "missing",
        max_runs: int = 10_000,
    ) -> BackfillPlan:
        spec = self.app.spec_of(migration_id)
        trigger = spec.trigger()
        if trigger is None or isinstance(trigger, Event):
            raise InputError(
                f'"{migration_id}" has no cron, interval or start_at schedule to backfill '
                "(event and immediate schedules cannot be backfilled)"
            )
        if reprocess not in self.REPROCESS:
            raise InputError(
                f'--reprocess: must be one of {", ".join(self.REPROCESS)}, got "{reprocess}"'
            )
        zone = get_zone(spec.timezone)
        start_at, end_at = _instant(start, zone), _instant(end, zone, end_of_day=True)
        if end_at <= start_at:
            raise InputError("--end: must be after --start")
        fires = list(islice(trigger.fire_times(start_at, end_at), max_runs + 1))
        if len(fires) > max_runs:
            raise InputError(
                f"the range holds more than {max_runs} fires; narrow it or raise --max"
            )
        latest = self.app.store.latest_attempts(migration_id, start_at, end_at)
        runs = []
        for fire in fires:
            run = latest.get(fire)
            if run is None:
                runs.append(NewRun(fire, Trigger.BACKFILL, logical_date=fire))
            elif reprocess == "all" or (
                reprocess == "failed" and run.state in (State.FAILED, State.CANCELLED)
            ):
                runs.append(
                    NewRun(
                        fire,
                        Trigger.BACKFILL,
                        logical_date=fire,
                        attempt=run.attempt + 1,
                        retry_of=run.id,
                        reason=f"backfill re-processes run {run.id}",
                    )
                )
        return BackfillPlan(migration_id, start_at, end_at, fires, runs)

    def create(
        self, plan: BackfillPlan, *, parallel: int = 1, reprocess: str = "missing", actor: str
    ) -> BackfillRecord:
        if parallel < 1:
            raise InputError("--parallel: must be at least 1")
        record, _ = self.app.store.create_backfill(
            plan.migration_id,
            start=plan.start,
            end=plan.end,
            reprocess=reprocess,
            parallel=parallel,
            runs=plan.runs,
            actor=actor,
            now=self.app.clock.now(),
        )
        return record

    def counts(self, backfill_id: int) -> dict[str, int]:
        return self.app.store.backfill_counts(backfill_id)

    def wait(
        self,
        backfill_id: int,
        *,
        on_progress: Callable[[dict[str, int]], None] | None = None,
        poll: float = 0.5,
    ) -> dict[str, int]:
        """Follow a backfill until none of its runs is active; returns the counts by state."""
        while True:
            counts = self.counts(backfill_id)
            if on_progress:
                on_progress(counts)
            if not any(state in {s.value for s in lifecycle.ACTIVE} for state in counts):
                return counts
            self.app.clock.sleep(poll)


def _instant(value: date | datetime, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date means its midnight in the migration's zone (the end date: the next midnight)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else resolve(value, zone)[0]
    day = value + timedelta(days=1) if end_of_day else value
    return resolve(datetime.combine(day, time()), zone)[0]
