"""Executing one run: analyze, plan, approve, run its job, and record how it ended."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from moonshift.clock import Clock
from moonshift.domain.lifecycle import IllegalTransitionError, State
from moonshift.domain.spec import MigrationSpec
from moonshift.jobs.base import Job, JobError, JobOutcome
from moonshift.jobs.command import CommandJob
from moonshift.store import RunRecord, StateStore

HEARTBEAT_SECONDS = 5.0
STATE_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerContext:
    store: StateStore
    home: Path
    clock: Clock
    environ: Mapping[str, str]
    actor: str


def log_dir(home: Path, migration_id: str) -> Path:
    return home / "logs" / migration_id


def execute_run(ctx: WorkerContext, run_id: int) -> RunRecord:
    """Take a run from ``created`` to its end; returns the final record."""
    run = ctx.store.get_run(run_id)
    spec = MigrationSpec.model_validate(
        ctx.store.get_migration(run.migration_id, include_deleted=True).spec
    )
    try:
        _move(ctx, run, State.ANALYZING, "checking what the job needs")
        job = _make_job(ctx, run, spec)
        job.prepare()
        _move(ctx, run, State.PLANNING, "prerequisites resolved")
        _move(ctx, run, State.AWAITING_APPROVAL, "plan ready")
        _move(ctx, run, State.APPROVED, "approval not required by the spec")
        now = ctx.clock.now()
        ctx.store.transition_run(
            run.id,
            State.RUNNING,
            actor=ctx.actor,
            now=now,
            reason="job started",
            lease_owner=ctx.actor,
            heartbeat_at=now,
        )
    except JobError as exc:
        return _end(ctx, run.id, State.FAILED, str(exc))
    except IllegalTransitionError:
        return ctx.store.get_run(run.id)  # cancelled while it was being prepared
    try:
        outcome = job.run(_Supervisor(ctx, run.id).should_stop)
    except KeyboardInterrupt:
        _end(ctx, run.id, State.CANCELLED, "interrupted")
        raise
    return _finish(ctx, run.id, outcome)


def _make_job(ctx: WorkerContext, run: RunRecord, spec: MigrationSpec) -> Job:
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
    raise JobError(f"kind {spec.kind}: this version of moonshift cannot run it yet")


def _move(ctx: WorkerContext, run: RunRecord, to: State, reason: str) -> None:
    ctx.store.transition_run(run.id, to, actor=ctx.actor, now=ctx.clock.now(), reason=reason)


def _finish(ctx: WorkerContext, run_id: int, outcome: JobOutcome) -> RunRecord:
    fields = {"exit_code": outcome.exit_code, "error_tail": outcome.error_tail, "lease_owner": None}
    if outcome.stopped:
        current = ctx.store.get_run(run_id)
        if current.state is State.CANCELLED:
            return ctx.store.update_run(run_id, now=ctx.clock.now(), **fields)
        return _end(ctx, run_id, State.CANCELLED, outcome.stopped, **fields)
    if outcome.succeeded:
        return _end(ctx, run_id, State.COMPLETED, "job succeeded", **fields)
    return _end(ctx, run_id, State.FAILED, outcome.failure, **fields)


def _end(
    ctx: WorkerContext, run_id: int, to: State, reason: str | None, **fields: object
) -> RunRecord:
    try:
        return ctx.store.transition_run(
            run_id, to, actor=ctx.actor, now=ctx.clock.now(), reason=reason, **fields
        )
    except IllegalTransitionError:
        return ctx.store.get_run(run_id)


class _Supervisor:
    """Heartbeats the run and notices when someone else cancelled it."""

    def __init__(self, ctx: WorkerContext, run_id: int) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self._checked = self._beat = time.monotonic()

    def should_stop(self) -> str | None:
        now = time.monotonic()
        if now - self._beat >= HEARTBEAT_SECONDS:
            self._beat = now
            self.ctx.store.update_run(
                self.run_id, now=self.ctx.clock.now(), heartbeat_at=self.ctx.clock.now()
            )
        if now - self._checked < STATE_CHECK_SECONDS:
            return None
        self._checked = now
        run = self.ctx.store.get_run(self.run_id)
        if run.state is State.CANCELLED:
            return run.reason or "cancelled"
        return None
