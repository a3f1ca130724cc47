"""Every seam of moonshift, declared in one place: what a part needs from another, and what it
gets back. Implementations follow these declarations and carry no docstrings of their own.

- ``Clock``: where the time comes from (``clock.SystemClock``; tests move their own).
- ``Job`` with ``JobContext`` and ``Outcome``: a job kind, as a worker runs it. The kinds and
  what each can do are registered in ``jobs.registry``.
- ``Launcher``: how the engine starts a worker for a run (``worker.launcher``).
- ``WorkerStore``, ``EngineStore``, ``AppStore``: the state store, as each of its users sees
  it (``store.StateStore`` is all three).
- ``Connector``: a database engine, as the copy engine uses it (``connectors.base``).
- ``Notifier``, ``Signer``, ``Check``: the seams the next features plug into.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from moonshift.connectors.base import Connector
from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.notices import Notice
from moonshift.domain.progress import Progress
from moonshift.domain.validation import CheckResult
from moonshift.store.records import (
    AlertRecord,
    ApiKeyRecord,
    ApprovalRecord,
    AuditEntry,
    BackfillRecord,
    ChannelRecord,
    ConnectionRecord,
    CopyErrorRecord,
    DaemonRecord,
    DeliveryRecord,
    DivergenceRecord,
    Glance,
    MigrationHeader,
    MigrationRecord,
    OutboxGlance,
    OverviewRecord,
    PlanRecord,
    RequestKeyRecord,
    RollbackRecord,
    RunRecord,
    ScheduleRecord,
    ScheduleStatus,
    Trigger,
    TriggerEvent,
    ValidationRecord,
    WebSessionRecord,
)
from moonshift.store.scheduling import DueBatch, NewRun, Waiting

__all__ = [
    "OWNERSHIP_LOST",
    "AppStore",
    "Check",
    "Clock",
    "Connector",
    "EngineStore",
    "Job",
    "JobContext",
    "Launcher",
    "NoticeStore",
    "Notifier",
    "Outcome",
    "Signer",
    "StopCheck",
    "WorkerStore",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None: ...


# -- jobs -----------------------------------------------------------------------------------

# The stop reason of a job whose run another worker owns now: nothing more is recorded.
OWNERSHIP_LOST = "lease lost"


@dataclass(frozen=True)
class Outcome:
    """How a job ended: ``failure`` is None on success, else the reason the run failed."""

    failure: str | None = None
    stopped: str | None = None  # set when the job ended because it was told to stop
    # set when the job paused itself (a database unreachable, too many bad rows): the run
    # pauses at its checkpoint, to resume at ``resume_at`` (None: when an operator says)
    pause: str | None = None
    resume_at: datetime | None = None
    exit_code: int | None = None
    error_tail: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.failure is None and self.stopped is None and self.pause is None


# Asked between steps of a job; returns a reason to stop (e.g. "cancelled") or None.
StopCheck = Callable[[], str | None]


@dataclass
class JobContext:
    should_stop: StopCheck
    checkpoint: dict[str, Any] | None = None  # where a paused or taken-over run left off
    save_checkpoint: Callable[[dict[str, Any]], None] = field(default=lambda _c: None)
    # The run's pending control request, if any.
    control: Callable[[], ControlRequest | None] = field(default=lambda: None)
    # Settings an operator changed while the run goes on (``copies.configure``).
    overrides: Callable[[], dict[str, Any]] = field(default=lambda: {})
    # Where the job reports its progress (kept on the run, throttled).
    report: Callable[[Progress], None] = field(default=lambda _p: None)
    # Renews the run's lease; for a job busy in one long step (any thread may call it).
    heartbeat: Callable[[], None] = field(default=lambda: None)
    # The copy's key ranges as workers of every daemon claim them (None: this worker's own).
    ranges: RangeLeases | None = None


class RangeLeases(Protocol):
    """A copy's key ranges in the state store, claimed by lease by the workers of any
    daemon; the checkpoint of truth of each range stays in the target."""

    owner: str  # who claims: "<daemon> <worker>"

    def offer(self, table: str, range_ids: Sequence[int]) -> None:
        """Make these ranges of ``table`` (not done in the target) claimable."""
        ...

    def claim(self, table: str) -> int | None:
        """A range of ``table`` that nobody holds, or whose holder's lease expired."""
        ...

    def finish(self, table: str, range_id: int) -> None: ...

    def left(self, table: str) -> int:
        """Ranges of ``table`` not finished, held or not."""
        ...

    def renew(self) -> None:
        """Extend the leases this owner holds."""
        ...

    def release(self) -> None:
        """Give back the ranges this owner holds, unfinished (it stops)."""
        ...


class Job(Protocol):
    def prepare(self) -> None:
        """Resolve everything the job needs before it starts; raise TerminalError if it
        cannot, naming the spec field to change."""
        ...

    def run(self, ctx: JobContext) -> Outcome:
        """Do the work, asking ``ctx.should_stop`` regularly."""
        ...

    def describe(self) -> dict[str, Any]:
        """After ``prepare``: what the job found and will do, for its stored plan (JSON-ready:
        a copy gives ``schema``, ``mappings`` and the ``dag`` of its tables)."""
        ...


class Launcher(Protocol):
    def launch(self, run_id: int, owner: str) -> int:
        """Start executing a run whose lease ``owner`` holds; returns the worker's pid."""
        ...

    def launch_helper(self, run_id: int, owner: str) -> int:
        """Start a worker that copies key ranges of a running copy that another daemon's
        worker holds (``owner``: this daemon); returns its pid."""
        ...

    def running(self) -> set[int]:
        """Run ids whose workers (or helpers) this launcher started and that still run."""
        ...

    def end(self, run_id: int) -> bool:
        """Kill the workers (and helpers) this launcher started for ``run_id`` that still
        run, and wait a few seconds for them to exit; whether they all did."""
        ...

    def finished(self) -> list[tuple[int, int, int]]:
        """(run id, worker pid, exit code) of workers that ended since the last call."""
        ...


# -- the state store, by who uses it --------------------------------------------------------
# Every method that changes something runs in one write transaction and writes its audit
# entry in that same transaction. Times are aware UTC instants; ``now`` is always passed in.


class RunStore(Protocol):
    """What every user of the store needs: migrations and runs, read and moved."""

    def get_migration(self, migration_id: str, *, include_deleted: bool = False) -> MigrationRecord:
        """NotFound for an unknown id, or a deleted one unless ``include_deleted``."""
        ...

    def get_run(self, run_id: int) -> RunRecord: ...

    def transition_run(
        self,
        run_id: int,
        to: State,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        **fields: Any,
    ) -> RunRecord:
        """Move a run to ``to`` if the lifecycle allows it (IllegalTransitionError if not),
        set ``fields`` with it, and record why."""
        ...

    def update_run(self, run_id: int, *, now: datetime, **fields: Any) -> RunRecord:
        """Change fields that are not the state (exit code, progress, heartbeat, ...)."""
        ...

    def add_runs(
        self, migration_id: str, runs: Sequence[NewRun], *, actor: str, now: datetime
    ) -> list[RunRecord]:
        """Create runs (skipping any whose identity exists); returns those created."""
        ...

    def record_event(
        self,
        *,
        now: datetime,
        event_type: str,
        outcome: str,
        migration_id: str | None = None,
        payload: dict[str, Any] | None = None,
        run_id: int | None = None,
        reason: str | None = None,
    ) -> TriggerEvent:
        """Keep something the scheduler or an operator did that is not a state change."""
        ...


class WorkerStore(RunStore, Protocol):
    def request_control(
        self, run_id: int, request: ControlRequest, *, now: datetime, unless_asked: bool = False
    ) -> bool:
        """Ask the run's worker to pause, fail or stop at its next check (a worker asks
        itself, where its window closed); ``unless_asked``: not over a request already
        there. Whether it was written."""
        ...

    # -- a copy's key ranges, by lease (``RangeLeases`` is how a copy sees them) -----------

    def offer_ranges(
        self,
        migration_id: str,
        copy_id: int,
        table: str,
        range_ids: Sequence[int],
        *,
        run_id: int,
    ) -> None: ...

    def claim_range(
        self,
        migration_id: str,
        copy_id: int,
        table: str,
        *,
        owner: str,
        lease_until: datetime,
        now: datetime,
    ) -> int | None: ...

    def renew_ranges(self, owner: str, *, lease_until: datetime) -> None: ...

    def finish_range(
        self, migration_id: str, copy_id: int, table: str, range_id: int, *, owner: str
    ) -> None: ...

    def release_ranges(self, owner: str) -> None: ...

    def ranges_left(self, migration_id: str, copy_id: int, table: str) -> int: ...

    def connection_urls(self, connection_ids: Sequence[str]) -> dict[str, str]:
        """id -> URL (as written, ``${ENV}`` references unresolved) of those that exist."""
        ...

    def claim_run(self, run_id: int, *, owner: str, lease_until: datetime, now: datetime) -> bool:
        """Take a queued or paused run for a worker; False if someone else has it."""
        ...

    def renew_lease(
        self, run_id: int, *, owner: str, lease_until: datetime, now: datetime
    ) -> bool: ...

    def update_held_run(self, run_id: int, *, owner: str, now: datetime, **fields: Any) -> bool:
        """``update_run`` while ``owner`` holds the run's lease; False, changing nothing,
        when another holds it (a worker taken over must not write over its successor)."""
        ...

    def add_copy_errors(
        self, migration_id: str, run_id: int, rows: Sequence[dict[str, Any]], *, now: datetime
    ) -> int:
        """Queue refused rows; a row already open for the same table and key is not queued
        twice (a batch written again after a crash finds the same rows). Returns how many
        were new."""
        ...

    # planning and approval
    def add_plan(
        self,
        migration_id: str,
        *,
        run_id: int | None,
        spec_version: int,
        spec: dict[str, Any],
        digest: str,
        content: dict[str, Any],
        actor: str,
        now: datetime,
    ) -> PlanRecord:
        """Store a plan as the migration's next plan version, its author the one who wrote
        the latest spec version; a run's plan sets the run's spec version."""
        ...

    def run_plan(self, run_id: int) -> PlanRecord | None:
        """The run's latest plan, if it has one."""
        ...

    def get_schedule(self, migration_id: str) -> ScheduleRecord | None: ...

    def park_for_approval(
        self, run_id: int, *, reason: str, needed: int, actor: str, now: datetime
    ) -> RunRecord:
        """Move a planned run to awaiting_approval, held by no worker, with an
        ``approval_needed`` event in the outbox."""
        ...

    def replan_run(self, run_id: int, *, reason: str, actor: str, now: datetime) -> RunRecord:
        """Void the run's approvals and move it back to planning, held by no worker."""
        ...

    # validation
    def start_validation(
        self, migration_id: str, run_id: int | None, *, actor: str, now: datetime
    ) -> ValidationRecord:
        """A validation, running, of the migration (and the run it will move, if any)."""
        ...

    def end_validation(
        self,
        validation_id: int,
        *,
        state: str,
        summary: str,
        results: Sequence[dict[str, Any]],
        divergences: Sequence[dict[str, Any]],
        now: datetime,
    ) -> ValidationRecord:
        """Its end (passed, failed or error), its results per perspective, and the
        divergences kept (columns of ``validation_divergences``)."""
        ...

    def get_validation(self, validation_id: int) -> ValidationRecord: ...

    def validations(self, migration_id: str, *, limit: int = 20) -> list[ValidationRecord]:
        """Newest first."""
        ...

    def divergences(
        self, validation_id: int, *, limit: int = 100, after: int | None = None
    ) -> list[DivergenceRecord]:
        """In the order found; ``after``: the id of the last one of the previous page."""
        ...


class NoticeStore(Protocol):
    """The outbox and its channels (``store.notifying``): what the dispatcher and the
    notification use cases need."""

    def emit(self, notice: Notice) -> int:
        """Put an event in the outbox in a transaction of its own; store code that changes
        something calls ``_emit(conn, notice)`` in its own transaction instead."""
        ...

    def outbox_glance(self, now: datetime) -> OutboxGlance:
        """In one statement: whether there are open alerts, unrouted events and deliveries
        due by ``now``; what an idle pass of the dispatcher needs to know."""
        ...

    def unrouted_events(self, *, limit: int = 200) -> list[Notice]: ...

    def route_events(self, routes: Mapping[int, Sequence[str]], *, now: datetime) -> int:
        """Write each event's deliveries and mark it routed, in one transaction (once)."""
        ...

    def get_event(self, event_id: int) -> Notice: ...

    def events_of(
        self,
        migration_id: str | None = None,
        *,
        run_id: int | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[Notice]: ...

    def pending_deliveries(self, *, limit: int = 500) -> list[DeliveryRecord]: ...

    def claim_delivery(self, delivery_id: int, *, now: datetime, until: datetime) -> bool: ...

    def delivery_done(self, delivery_id: int, *, now: datetime) -> None: ...

    def delivery_failed(
        self,
        delivery_id: int,
        *,
        error: str,
        now: datetime,
        retry_at: datetime | None,
        counts: bool = True,
    ) -> None: ...

    def deliveries_of(self, event_ids: Sequence[int]) -> list[DeliveryRecord]: ...

    def put_channel(
        self,
        *,
        channel_id: str,
        type_: str,
        settings: dict[str, Any],
        name: str,
        actor: str,
        now: datetime,
        source_file: str | None = None,
    ) -> tuple[ChannelRecord, str]: ...

    def get_channel(self, channel_id: str) -> ChannelRecord: ...

    def list_channels(self) -> list[ChannelRecord]: ...

    def delete_channel(self, channel_id: str, *, actor: str, now: datetime) -> None: ...

    # alerts (``store.alerting``; opened and closed by ``_emit`` with their events)
    def list_alerts(
        self,
        *,
        statuses: tuple[str, ...] = ("open", "acknowledged"),
        migration_id: str | None = None,
        limit: int = 100,
    ) -> list[AlertRecord]:
        """Newest first."""
        ...

    def get_alert(self, alert_id: int) -> AlertRecord: ...

    def acknowledge_alert(
        self, alert_id: int, *, actor: str, note: str | None, now: datetime
    ) -> AlertRecord:
        """Stop its reminders and record who, in history; Conflict unless it is open."""
        ...

    def renotify_alert(self, alert_id: int, *, now: datetime, due_before: datetime) -> bool:
        """Put an ``alert`` event in the outbox if the alert is open and was last sent
        before ``due_before``."""
        ...


class EngineStore(WorkerStore, NoticeStore, Protocol):
    @property
    def url(self) -> str:
        """For logs: the password masked."""
        ...

    def runs_to_help(self, *, daemon_id: str, now: datetime) -> list[int]:
        """Running copies held by other daemons with a key range nobody holds."""
        ...

    def close(self) -> None: ...

    def waiter(self, stop: threading.Event) -> Waiter:
        """Sleeps that end early when the store changes (as far as it can tell), or
        ``stop`` is set."""
        ...

    def list_migrations(self, *, include_deleted: bool = False) -> list[MigrationRecord]: ...

    def migrations_by_id(self, migration_ids: list[str]) -> list[MigrationRecord]: ...

    def migration_headers(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[MigrationHeader]: ...

    def migration_versions(self) -> dict[str, int]:
        """The version of every migration not deleted (nothing else: cheap for thousands)."""
        ...

    def migrations_changed_at(self) -> datetime | None: ...

    def schedule_times(
        self, changed_since: datetime | None = None
    ) -> list[tuple[str, datetime | None, str]]:
        """(migration, next fire, status) of every schedule, or of those changed since."""
        ...

    def schedules_changed_at(self) -> datetime | None: ...

    def glance(self, now: datetime, *, daemon_id: str) -> Glance:
        """In one statement: whether ``expired_leases``, ``working_runs``, ``runnable`` and
        ``runs_to_help`` would find anything, ``schedules_changed_at`` and
        ``next_not_before``; what an idle wake-up needs to know, and all it reads."""
        ...

    def fires_between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """(migration, next fire) of active schedules whose next fire is in ``(start, end]``."""
        ...

    def claim_due(self, now: datetime, *, limit: int = 500) -> AbstractContextManager[DueBatch]:
        """Claim active schedules due by ``now`` (``FOR UPDATE SKIP LOCKED``); what the batch
        records commits together when the claim ends."""
        ...

    def runnable(
        self,
        now: datetime,
        *,
        limit: int = 1000,
        after: tuple[datetime, int] | None = None,
        besides: Sequence[int] = (),
    ) -> list[tuple[RunRecord, MigrationRecord]]:
        """Queued runs whose time has come, and paused runs, oldest fire first; ``after``:
        the (nominal time, id) of the previous page's last; ``besides``: runs the caller
        holds already."""
        ...

    def active_runs(
        self, migration_ids: Sequence[str] | None = None, *, besides: Sequence[int] = ()
    ) -> list[RunRecord]:
        """Runs started and not ended, paused or queued (of these migrations), but for the
        runs ``besides`` (those the caller holds already)."""
        ...

    def working_runs(self) -> list[RunRecord]:
        """Runs a worker holds (from analyzing to running), and those claimed for a worker
        that has not yet taken them (queued or paused, with a lease)."""
        ...

    def next_not_before(self, now: datetime) -> datetime | None:
        """The soonest a waiting run may be looked at again (a window opening, a backoff)."""
        ...

    def latest_run_at_or_before(self, migration_id: str, nominal: datetime) -> RunRecord | None:
        """The dependency rule: the latest run whose nominal time is not after ``nominal``."""
        ...

    def release_run(self, run_id: int, *, now: datetime) -> None:
        """Let go of a claimed run that no worker took, for a later tick to claim again."""
        ...

    def claim_runs(
        self, run_ids: Sequence[int], *, owner: str, lease_until: datetime, now: datetime
    ) -> set[int]:
        """Take queued or paused runs for workers in one transaction; returns those taken
        (a run another daemon holds, or that has moved on, is left alone)."""
        ...

    def expired_leases(self, now: datetime) -> list[RunRecord]: ...

    def requeue_run(
        self,
        run_id: int,
        *,
        lost: tuple[str | None, datetime | None],
        reason: str,
        actor: str,
        now: datetime,
    ) -> bool:
        """Let go of a run that a lost worker left preparing (analyzing, planning, approved),
        with an audit entry, so that the next worker prepares it again; ``lost`` is the lease
        (owner, expiry) it was lost with: False when the run has moved on or is held anew."""
        ...

    def set_waiting(self, waits: Sequence[Waiting], *, now: datetime) -> None:
        """Record why each of these queued runs waits, in one transaction."""
        ...

    def count_pool(self, pool: str) -> int: ...

    def get_backfill(self, backfill_id: int) -> BackfillRecord: ...

    def register_daemon(self, daemon_id: str, *, host: str, pid: int, now: datetime) -> None: ...

    def daemon_heartbeat(
        self, daemon_id: str, *, now: datetime, stopping: bool = False
    ) -> None: ...

    def remove_daemon(self, daemon_id: str) -> None: ...

    def get_events(
        self, migration_id: str | None = None, *, limit: int = 50
    ) -> list[TriggerEvent]: ...


class AppStore(WorkerStore, NoticeStore, Protocol):
    def close(self) -> None: ...

    def announce(self) -> None:
        """Tell listening daemons an operator changed something (no-op on SQLite)."""
        ...

    # migrations
    def apply_migration(
        self,
        spec: dict[str, Any],
        *,
        actor: str,
        now: datetime,
        source_file: str | None = None,
        expect: tuple[int, datetime] | None = None,
    ) -> tuple[MigrationRecord, str, list[str]]:
        """Create or update a migration from its canonical spec; with ``expect`` (version,
        updated_at) only if it is still so (PreconditionFailed, checked under its lock).

        Returns the record, what happened (created, updated, restored, unchanged) and the
        changed field paths. ``enabled`` follows the spec only where the spec changed it,
        so an operator's ``disable`` survives a re-apply of the same file.
        """
        ...

    def list_migrations(self, *, include_deleted: bool = False) -> list[MigrationRecord]: ...

    def migration_headers(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[MigrationHeader]:
        """Live migrations without their specs, by id (``after``: those past that id)."""
        ...

    def set_enabled(
        self,
        migration_id: str,
        enabled: bool,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
    ) -> MigrationRecord: ...

    def delete_migration(
        self, migration_id: str, *, actor: str, now: datetime, force: bool = False
    ) -> list[int]:
        """Mark a migration deleted; with ``force`` cancel its active runs first (Conflict
        without it). Returns the ids of the runs it cancelled."""
        ...

    # runs
    def create_run(
        self,
        migration_id: str,
        *,
        trigger: Trigger,
        nominal_time: datetime,
        actor: str,
        now: datetime,
        logical_date: datetime | None = None,
        reason: str | None = None,
        alone: bool = False,
        ignore_windows: bool = False,
    ) -> RunRecord:
        """Create a run in state ``created``; DuplicateRunError when its identity exists.
        ``alone``: only while no other run of the migration has started and not ended and
        no other manual run waits, checked and inserted in one transaction that holds the
        migration (RunActiveError naming the run found). ``ignore_windows``: no window
        holds, pauses, fails or warns the run (nor its retries)."""
        ...

    def list_runs(
        self,
        migration_id: str,
        *,
        limit: int = 20,
        states: Sequence[State] | None = None,
        before: int | None = None,
    ) -> list[RunRecord]:
        """Newest first; ``before``: only runs with a smaller id (the next page)."""
        ...

    def count_runs_by_state(self) -> dict[str, int]: ...

    def latest_runs(self) -> dict[str, RunRecord]:
        """The newest run of every migration that has one."""
        ...

    def active_run_of(self, migration_id: str, states: Sequence[State]) -> int | None:
        """The newest run of the migration in one of ``states``."""
        ...

    def history(
        self, migration_id: str | None = None, *, run_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        ...

    def get_events(
        self, migration_id: str | None = None, *, limit: int = 50
    ) -> list[TriggerEvent]: ...

    def get_last_event(self, migration_id: str) -> TriggerEvent | None: ...

    # schedules
    def put_schedule(
        self,
        migration_id: str,
        *,
        status: ScheduleStatus,
        next_fire_at: datetime | None,
        spec_version: int,
        now: datetime,
        keep_last_fire: bool = True,
    ) -> ScheduleRecord: ...

    def drop_schedule(self, migration_id: str) -> None: ...

    def get_schedule(self, migration_id: str) -> ScheduleRecord | None: ...

    def list_schedules(self, status: ScheduleStatus | None = None) -> list[ScheduleRecord]: ...

    # backfills and daemons
    def latest_attempts(
        self, migration_id: str, start: datetime, end: datetime
    ) -> dict[datetime, RunRecord]:
        """nominal time -> its latest attempt, for the fires in ``[start, end)``."""
        ...

    def create_backfill(
        self,
        migration_id: str,
        *,
        start: datetime,
        end: datetime,
        reprocess: str,
        parallel: int,
        runs: Sequence[NewRun],
        actor: str,
        now: datetime,
    ) -> tuple[BackfillRecord, list[RunRecord]]:
        """A backfill and its runs, created together or not at all."""
        ...

    def backfill_counts(self, backfill_id: int) -> dict[str, int]:
        """state -> how many of the backfill's runs are in it."""
        ...

    def live_daemons(self, now: datetime, *, within_seconds: float = 30) -> list[DaemonRecord]: ...

    # copies: the error queue and rollbacks
    def copy_errors(
        self,
        migration_id: str,
        *,
        status: str | None = None,
        limit: int = 1000,
        after: int | None = None,
    ) -> list[CopyErrorRecord]:
        """Oldest first; ``after``: only errors with a larger id (the next page)."""
        ...

    def open_copy_error_counts(self) -> dict[str, int]:
        """migration -> rows open in its error queue."""
        ...

    def get_copy_error(self, error_id: int) -> CopyErrorRecord: ...

    def settle_copy_error(
        self,
        error_id: int,
        *,
        status: str,
        resolution: str,
        actor: str,
        now: datetime,
        message: str | None = None,
    ) -> CopyErrorRecord:
        """Mark an open error skipped or resolved (with the audit entry), or record a retry
        that failed again (``status`` open, the new ``message``)."""
        ...

    def start_rollback(
        self, migration_id: str, strategy: str, *, actor: str, reason: str | None, now: datetime
    ) -> RollbackRecord: ...

    def end_rollback(
        self,
        rollback_id: int,
        *,
        state: str,
        tables: list[dict[str, Any]],
        now: datetime,
        actor: str,
    ) -> RollbackRecord: ...

    def rollbacks(self, migration_id: str, *, limit: int = 10) -> list[RollbackRecord]: ...

    # the REST API: keys, named connections, request keys
    def add_api_key(
        self, *, name: str, scope: str, key_hash: str, prefix: str, actor: str, now: datetime
    ) -> ApiKeyRecord:
        """Conflict while a key of that name is not revoked (a revoked one is replaced)."""
        ...

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...

    def api_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_api_key(self, name: str, *, actor: str, now: datetime) -> ApiKeyRecord: ...

    def add_web_session(
        self, *, token_hash: str, key_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        """A dashboard session for the key of ``key_hash`` (expired ones are dropped)."""
        ...

    def web_session(self, token_hash: str) -> WebSessionRecord | None:
        """The session and its key's name, scope and revocation; None if there is none."""
        ...

    def drop_web_session(self, token_hash: str) -> None: ...

    def overview(
        self,
        *,
        after: str | None = None,
        limit: int,
        search: str | None = None,
        state: State | None = None,
        never_ran: bool = False,
    ) -> list[OverviewRecord]:
        """A page of live migrations by id with their latest run, schedule, open errors and
        open alerts, in one query; ``search`` in the id or the name, ``state`` of the latest run, or
        ``never_ran``."""
        ...

    def put_connection(
        self,
        *,
        connection_id: str,
        type_: str,
        url: str,
        name: str,
        actor: str,
        now: datetime,
        source_file: str | None = None,
    ) -> tuple[ConnectionRecord, str]:
        """Create or update; returns the record and created, updated or unchanged."""
        ...

    def get_connection(self, connection_id: str) -> ConnectionRecord: ...

    def list_connections(self) -> list[ConnectionRecord]: ...

    def delete_connection(self, connection_id: str, *, actor: str, now: datetime) -> None: ...

    def claim_request_key(
        self, scope: str, key: str, fingerprint: str, *, now: datetime, forget_before: datetime
    ) -> RequestKeyRecord | None:
        """Insert (scope, key), first forgetting keys made before ``forget_before``: None when
        this call inserted it (a unique constraint decides between racing callers), else
        the row as it is."""
        ...

    def answer_request_key(
        self, scope: str, key: str, *, status_code: int, content_type: str | None, body: str
    ) -> None: ...

    def release_request_key(self, scope: str, key: str) -> None: ...

    # planning and approval (and ``add_plan``, ``run_plan``, ``replan_run`` above)
    def active_runs(self, migration_ids: Sequence[str] | None = None) -> list[RunRecord]:
        """Runs that have not ended (paused ones too), oldest first."""
        ...

    def latest_plan(self, migration_id: str, *, run_id: int | None = None) -> PlanRecord | None: ...

    def approvals(
        self, *, migration_id: str | None = None, run_id: int | None = None
    ) -> list[ApprovalRecord]:
        """Oldest first, void ones too."""
        ...

    def decide(
        self,
        plan: PlanRecord,
        run_id: int,
        *,
        actor: str,
        decision: str,
        note: str | None,
        required: int,
        now: datetime,
    ) -> tuple[RunRecord, list[str]]:
        """Record an approval or rejection of ``plan`` for a run; ``required`` valid
        approvals of its digest approve the run, a rejection cancels it, in the same
        transaction. Returns the run and who approved this digest so far."""
        ...

    def add_note(
        self, migration_id: str, text: str, *, actor: str, now: datetime, run_id: int | None = None
    ) -> None:
        """A note in the migration's history."""
        ...


class Waiter(Protocol):
    @property
    def sees_every_change(self) -> bool:
        """Whether ``wait`` ends at every change (else only at those announced)."""
        ...

    def mark(self) -> None:
        """Take the store as it is now: a change after this ends the next ``wait``."""
        ...

    def wait(self, seconds: float, *, poll: float) -> bool:
        """Sleep ``seconds``, less when ``stop`` is set or the store changed (looked at
        every ``poll``); True when a change ended it."""
        ...

    def close(self) -> None: ...


# -- the seams of the coming features -------------------------------------------------------


class Notifier(Protocol):
    """Delivers one outbox event to one target (Slack, email, a webhook), at least once;
    ``key`` makes a repeated delivery a no-op at the target. Raises TransientError to be
    tried again later, TerminalError to give up. One module per kind under ``notify/``."""

    def deliver(self, event: Mapping[str, Any], *, key: str) -> None: ...


class Signer(Protocol):
    """Signs a certificate's canonical bytes and verifies them offline."""

    key_id: str

    def sign(self, payload: bytes) -> bytes: ...

    def verify(self, payload: bytes, signature: bytes) -> bool: ...


class Check(Protocol):
    """One validation perspective over a copied migration. ``subject`` is a
    ``validation.subject.Subject`` (the plan, both databases, the spec's limits: the copy
    layer it reads sits above this module). Returns its result with the divergences it
    found, capped. One module each under ``validation/``, listed in
    ``validation.runner.CHECKS``."""

    name: str

    def run(self, subject: Any) -> CheckResult: ...
