"""Executing one run: prepare it (or resume it), run its job, and record how it ended.

The worker holds the run's lease and renews it as it heartbeats; between steps the job asks
whether to stop, which is when control requests (pause, fail, stop) and cancellation land.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from moonshift.clock import Clock
from moonshift.domain.lifecycle import IllegalTransitionError, State
from moonshift.domain.spec import MigrationSpec
from moonshift.jobs.base import OWNERSHIP_LOST, Job, JobContext, JobError, JobOutcome
from moonshift.jobs.command import CommandJob
from moonshift.jobs.copy import CopyJob
from moonshift.jobs.steps import StepsJob
from moonshift.scheduler.preflight import check as preflight_check
from moonshift.store import RunRecord, StateStore
from moonshift.store.scheduling import NewRun

log = logging.getLogger("moonshift.worker")
HEARTBEAT_SECONDS = 2.0
STATE_CHECK_SECONDS = 0.5
PROGRESS_SECONDS = 1.0
# How long a worker's claim on a run lasts without a heartbeat; tests shorten it.
LEASE = timedelta(seconds=float(os.environ.get("MOONSHIFT_LEASE_SECONDS", "15")))
LEASE_LOST = OWNERSHIP_LOST


@dataclass(frozen=True)
class WorkerContext:
    store: StateStore
    home: Path
    clock: Clock
    environ: Mapping[str, str]
    actor: str


def log_dir(home: Path, migration_id: str) -> Path:
    return home / "logs" / migration_id


def spec_for(store: StateStore, run: RunRecord) -> MigrationSpec:
    return MigrationSpec.model_validate(
        store.get_migration(run.migration_id, include_deleted=True).spec
    )


def make_job(ctx: WorkerContext, run: RunRecord, spec: MigrationSpec) -> Job:
    if spec.kind == "command":
        assert spec.command is not None
        extra = {"MOONSHIFT_RUN_ID": str(run.id), "MOONSHIFT_MIGRATION_ID": spec.id}
        if run.logical_date is not None:
            extra["MOONSHIFT_LOGICAL_DATE"] = run.logical_date.isoformat()
        return CommandJob(
            spec.command,
            log_dir=log_dir(ctx.home, spec.id),
            run_id=run.id,
            environ=ctx.environ,
            extra_env=extra,
        )
    if spec.kind == "steps":
        assert spec.steps is not None
        return StepsJob(spec.steps)
    if spec.kind == "copy":
        return CopyJob(
            spec,
            run_id=run.id,
            copy_id=copy_id(ctx.store, run),
            environ=ctx.environ,
            record_errors=lambda run_id, rows: _queue_errors(ctx, spec.id, run_id, rows),
            now=ctx.clock.now,
            note=lambda text: _copy_event(ctx, run, "plan", "warning", text),
            retried=lambda text: _copy_event(ctx, run, "copy", "retry", text),
        )
    raise JobError(f"kind {spec.kind}: this version of moonshift cannot run it yet")


def _queue_errors(
    ctx: WorkerContext, migration_id: str, run_id: int, rows: list[dict[str, Any]]
) -> None:
    ctx.store.add_copy_errors(migration_id, run_id, rows, now=ctx.clock.now())


def _copy_event(
    ctx: WorkerContext, run: RunRecord, event_type: str, outcome: str, text: str
) -> None:
    ctx.store.record_event(
        now=ctx.clock.now(),
        migration_id=run.migration_id,
        event_type=event_type,
        outcome=outcome,
        run_id=run.id,
        reason=text,
        payload={"actor": ctx.actor},
    )


def copy_id(store: StateStore, run: RunRecord) -> int:
    """A copy is a run and its retries: they share the first attempt's checkpoints."""
    while run.retry_of is not None:
        run = store.get_run(run.retry_of)
    return run.id


def execute_run(ctx: WorkerContext, run_id: int) -> RunRecord:
    """Take a run from ``created`` (or ``paused``) to its end; returns the final record."""
    run = ctx.store.get_run(run_id)
    spec = spec_for(ctx.store, run)
    try:
        job = start_run(ctx, run, spec)
    except JobError as exc:
        return end_run(ctx, run.id, State.FAILED, str(exc), spec=spec)
    except IllegalTransitionError:
        return ctx.store.get_run(run.id)  # cancelled while it was being prepared
    except Exception as exc:
        log.exception("run %d could not start", run.id)
        return end_run(ctx, run.id, State.FAILED, f"internal error: {exc!r}", spec=spec)
    supervisor = _Supervisor(ctx, run.id)
    job_ctx = JobContext(
        supervisor.should_stop,
        run.checkpoint,
        supervisor.save_checkpoint,
        control=supervisor.control,
        overrides=supervisor.overrides,
        report=supervisor.report,
        heartbeat=supervisor.heartbeat,
    )
    try:
        outcome = job.run(job_ctx)
    except KeyboardInterrupt:
        end_run(ctx, run.id, State.CANCELLED, "interrupted", spec=spec)
        raise
    except Exception as exc:
        log.exception("run %d failed", run.id)
        outcome = JobOutcome(failure=f"internal error: {exc!r}")
    finally:
        supervisor.flush()
    if supervisor.lost or outcome.stopped == OWNERSHIP_LOST:
        return ctx.store.get_run(run.id)  # another worker owns it now: write nothing
    return finish_run(ctx, run.id, outcome, job.can_pause, spec)


def start_run(ctx: WorkerContext, run: RunRecord, spec: MigrationSpec) -> Job:
    """Walk a run to ``running``; a paused run resumes directly. Returns its job."""
    now = ctx.clock.now()
    lease = {
        "lease_owner": run.lease_owner or ctx.actor,
        "lease_expires_at": now + LEASE,
        "heartbeat_at": now,
        "worker_pid": os.getpid(),
    }
    if run.state is State.PAUSED:
        job = make_job(ctx, run, spec)
        job.prepare()
        ctx.store.transition_run(
            run.id,
            State.RUNNING,
            actor=ctx.actor,
            now=now,
            reason=f"resumed after: {run.reason}",
            control=None,
            not_before=None,
            **lease,
        )
        return job
    _move(ctx, run, State.ANALYZING, "checking what the job needs")
    reason = preflight_check(spec, ctx.environ)
    if reason:
        raise JobError(reason)
    job = make_job(ctx, run, spec)
    job.prepare()
    _move(ctx, run, State.PLANNING, "prerequisites resolved")
    _move(ctx, run, State.AWAITING_APPROVAL, "plan ready")
    _move(ctx, run, State.APPROVED, "approval not required by the spec")
    ctx.store.transition_run(
        run.id, State.RUNNING, actor=ctx.actor, now=ctx.clock.now(), reason="job started", **lease
    )
    return job


def finish_run(
    ctx: WorkerContext, run_id: int, outcome: JobOutcome, can_pause: bool, spec: MigrationSpec
) -> RunRecord:
    """Record the end of a job: completed, failed, cancelled, or paused at its checkpoint."""
    fields: dict[str, Any] = {"exit_code": outcome.exit_code, "error_tail": outcome.error_tail}
    if outcome.succeeded:
        return end_run(ctx, run_id, State.COMPLETED, "job succeeded", spec=spec, **fields)
    if outcome.pause:
        return end_run(
            ctx,
            run_id,
            State.PAUSED,
            outcome.pause,
            spec=spec,
            not_before=outcome.resume_at,
            **fields,
        )
    if not outcome.stopped:
        return end_run(ctx, run_id, State.FAILED, outcome.failure, spec=spec, **fields)
    current = ctx.store.get_run(run_id)
    if current.state is State.CANCELLED:
        return ctx.store.update_run(run_id, now=ctx.clock.now(), lease_owner=None, **fields)
    control = current.control or {}
    action, reason = control.get("action", "stop"), control.get("reason") or outcome.stopped
    if action in ("pause", "halt") and can_pause:
        # A pause by the scheduler resumes on its own; an operator's waits for `resume`.
        manual = action == "halt" or control.get("manual")
        resume = None if manual else ctx.clock.now()
        return end_run(ctx, run_id, State.PAUSED, reason, spec=spec, not_before=resume, **fields)
    if action in ("pause", "fail"):
        return end_run(ctx, run_id, State.FAILED, reason, spec=spec, **fields)
    return end_run(ctx, run_id, State.CANCELLED, reason, spec=spec, **fields)


def end_run(
    ctx: WorkerContext,
    run_id: int,
    to: State,
    reason: str | None,
    *,
    spec: MigrationSpec | None = None,
    **fields: Any,
) -> RunRecord:
    """Move a run to where it ends (or pauses), let go of its lease, and queue its retry."""
    now = ctx.clock.now()
    try:
        run = ctx.store.transition_run(
            run_id,
            to,
            actor=ctx.actor,
            now=now,
            reason=reason,
            control=None,
            lease_owner=None,
            lease_expires_at=None,
            worker_pid=None,
            **fields,
        )
    except IllegalTransitionError:
        return ctx.store.get_run(run_id)
    if to is State.FAILED and spec is not None:
        queue_retry(ctx, run, spec)
    return run


def queue_retry(ctx: WorkerContext, run: RunRecord, spec: MigrationSpec) -> RunRecord | None:
    """Per ``retries``: a failed run gets attempt+1 of the same fire, after the backoff."""
    if run.attempt > spec.retries.max:
        return None
    now = ctx.clock.now()
    new = NewRun(
        run.nominal_time,
        run.trigger,
        logical_date=run.logical_date,
        attempt=run.attempt + 1,
        retry_of=run.id,
        not_before=now + spec.retries.delay(run.attempt),
        reason=f"retry {run.attempt} of {spec.retries.max} after run {run.id} failed",
    )
    created = ctx.store.add_runs(run.migration_id, [new], actor=ctx.actor, now=now)
    return created[0] if created else None


def _move(ctx: WorkerContext, run: RunRecord, to: State, reason: str) -> None:
    ctx.store.transition_run(run.id, to, actor=ctx.actor, now=ctx.clock.now(), reason=reason)


class _Supervisor:
    """Heartbeats and renews the lease; notices cancellation, control requests and takeover."""

    def __init__(self, ctx: WorkerContext, run_id: int) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.owner = ctx.store.get_run(run_id).lease_owner or ctx.actor
        self.lost = False
        self._checked = self._beat = time.monotonic()
        self._run: RunRecord | None = None
        self._progress: dict[str, Any] | None = None
        self._reported = 0.0

    def heartbeat(self) -> None:
        """Renew the lease when a beat is due; notes when another worker has the run."""
        now = time.monotonic()
        if now - self._beat < HEARTBEAT_SECONDS:
            return
        self._beat = now
        instant = self.ctx.clock.now()
        if not self.ctx.store.renew_lease(
            self.run_id, owner=self.owner, lease_until=instant + LEASE, now=instant
        ):
            self.lost = True

    def should_stop(self) -> str | None:
        self.heartbeat()
        if self.lost:
            return LEASE_LOST
        now = time.monotonic()
        if now - self._checked < STATE_CHECK_SECONDS:
            return None
        self._checked = now
        run = self._run = self.ctx.store.get_run(self.run_id)
        if run.state is State.CANCELLED:
            return run.reason or "cancelled"
        if run.control:
            return str(run.control.get("reason") or run.control.get("action"))
        return None

    def control(self) -> dict[str, Any] | None:
        return self._run.control if self._run else None

    def overrides(self) -> dict[str, Any]:
        return (self._run.overrides if self._run else None) or {}

    def report(self, progress: dict[str, Any]) -> None:
        """Keep the job's progress on the run, at most every PROGRESS_SECONDS."""
        self._progress = progress
        if time.monotonic() - self._reported >= PROGRESS_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._progress is not None and not self.lost:
            self._reported = time.monotonic()
            self.ctx.store.update_run(
                self.run_id, now=self.ctx.clock.now(), progress=self._progress
            )
            self._progress = None

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.ctx.store.update_run(self.run_id, now=self.ctx.clock.now(), checkpoint=checkpoint)
