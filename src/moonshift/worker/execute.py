"""Executing one run: prepare it (or resume it), run its job, and record how it ended.

The worker holds the run's lease and renews it as it heartbeats; between steps the job asks
whether to stop, which is when control requests (pause, fail, stop) and cancellation land.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from moonshift.clock import beating
from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import IllegalTransitionError, State
from moonshift.domain.plans import digest as plan_digest
from moonshift.domain.progress import Progress
from moonshift.domain.risk import at_least
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import TerminalError, Unavailable
from moonshift.jobs.registry import JobSetup, kind_of
from moonshift.runtime.plans import plan_content, record_plan, risks_of, worst
from moonshift.runtime.preflight import check as preflight_check
from moonshift.runtime.ranges import StoreRangeLeases
from moonshift.runtime.runs import (
    HEARTBEAT_SECONDS,
    LEASE,
    HeldLease,
    RunContext,
    copy_id,
    end_run,
    log_dir,
    spec_for,
    with_connections,
)
from moonshift.runtime.validating import validate_copy
from moonshift.runtime.windows import window_stop
from moonshift.seams import OWNERSHIP_LOST, Job, JobContext, Outcome
from moonshift.store.records import PlanRecord, RunRecord

log = logging.getLogger("moonshift.worker")
STATE_CHECK_SECONDS = 0.5
PROGRESS_SECONDS = 1.0


def claim_and_execute(ctx: RunContext, run_id: int, owner: str | None) -> RunRecord | None:
    """Execute a run whose lease ``owner`` holds; without one, claim it first. None when
    someone else holds it (it goes on there)."""
    if owner is None:
        now = ctx.clock.now()
        if not ctx.store.claim_run(run_id, owner=ctx.actor, lease_until=now + LEASE, now=now):
            return None
    return execute_run(ctx, run_id, owner or ctx.actor)


def make_job(ctx: RunContext, run: RunRecord, spec: MigrationSpec) -> Job:
    return kind_of(spec.kind).build(
        JobSetup(
            spec=spec,
            run_id=run.id,
            copy_id=copy_id(ctx.store, run),
            logical_date=run.logical_date,
            log_dir=log_dir(ctx.home, spec.id),
            environ=ctx.environ,
            now=ctx.clock.now,
            record_errors=lambda run_id, rows: ctx.store.add_copy_errors(
                spec.id, run_id, rows, now=ctx.clock.now()
            ),
            note=lambda text: _copy_event(ctx, run, "plan", "warning", text),
            retried=lambda text: _copy_event(ctx, run, "copy", "retry", text),
            measured=_measured(ctx, run),
        )
    )


def _measured(ctx: RunContext, run: RunRecord) -> dict[str, Any] | None:
    """The sample's findings (profile, estimate) of the plan the run has, if it has one."""
    if run.state is State.CREATED:
        return None
    stored = ctx.store.run_plan(run.id)
    if stored is None or "estimate" not in stored.content:
        return None
    return {k: stored.content[k] for k in ("profile", "estimate") if k in stored.content}


def _copy_event(ctx: RunContext, run: RunRecord, event_type: str, outcome: str, text: str) -> None:
    ctx.store.record_event(
        now=ctx.clock.now(),
        migration_id=run.migration_id,
        event_type=event_type,
        outcome=outcome,
        run_id=run.id,
        reason=text,
        payload={"actor": ctx.actor},
    )


def execute_run(ctx: RunContext, run_id: int, owner: str) -> RunRecord:
    """Take a run whose lease ``owner`` holds from ``created`` (or ``paused``) to its end;
    returns the final record."""
    run = ctx.store.get_run(run_id)
    spec = spec_for(ctx.store, run)
    supervisor = _Supervisor(ctx, run, owner)
    if not supervisor.write(worker_pid=os.getpid()):
        return run  # taken over before this worker began: the other goes on
    try:
        # preparing may take long (schemas to read, a database to wait for): keep the lease
        with supervisor.beating():
            started = start_run(
                ctx, run, with_connections(ctx.store, spec), supervisor.lease.held, owner
            )
    except OwnershipLost:
        return ctx.store.get_run(run.id)  # taken over while preparing: the other goes on
    except TerminalError as exc:
        return end_run(ctx, run.id, State.FAILED, str(exc), spec=spec)
    except IllegalTransitionError:
        return ctx.store.get_run(run.id)  # cancelled while it was being prepared
    except Exception as exc:
        log.exception("run %d could not start", run.id)
        return end_run(ctx, run.id, State.FAILED, f"internal error: {exc!r}", spec=spec)
    if started is None:
        return ctx.store.get_run(run.id)  # waits for approval, held by no worker
    job = started
    job_ctx = JobContext(
        supervisor.should_stop,
        run.checkpoint,
        supervisor.save_checkpoint,
        control=supervisor.control,
        overrides=supervisor.overrides,
        report=supervisor.report,
        heartbeat=supervisor.lease.renew,
        ranges=StoreRangeLeases(ctx, run, copy_id(ctx.store, run), owner),
    )
    try:
        outcome = job.run(job_ctx)
    except KeyboardInterrupt:
        end_run(ctx, run.id, State.CANCELLED, "interrupted", spec=spec)
        raise
    except Exception as exc:
        log.exception("run %d failed", run.id)
        outcome = Outcome(failure=f"internal error: {exc!r}")
    finally:
        supervisor.flush()
    # held(): a worker that stalled past its lease may learn only now that another has it
    if outcome.stopped == OWNERSHIP_LOST or not supervisor.lease.held():
        return ctx.store.get_run(run.id)  # another worker owns it now: write nothing
    return finish_run(ctx, run.id, outcome, kind_of(spec.kind).can_pause, spec)


class OwnershipLost(Exception):
    """Another worker took the run over while this one was preparing it."""


def start_run(
    ctx: RunContext,
    run: RunRecord,
    spec: MigrationSpec,
    held: Callable[[], bool] = lambda: True,
    owner: str | None = None,
) -> Job | None:
    """Walk a run to ``running``; a paused run resumes directly, a run a lost worker left
    preparing is prepared again. Returns its job, or None when the run waits for approval
    (it then holds no worker). ``held``: whether this worker still holds the run, asked
    after the long part of preparing (OwnershipLost when not); ``owner``: the lease it
    holds the run under (by default the run's, else this worker's)."""
    owner = owner or run.lease_owner or ctx.actor
    if run.state is State.PAUSED:
        job = _prepared(ctx, run, spec, held)
        ctx.store.transition_run(
            run.id,
            State.RUNNING,
            actor=ctx.actor,
            now=ctx.clock.now(),
            reason=f"resumed after: {run.reason}",
            control=None,
            not_before=None,
            **_lease(ctx, owner),
        )
        return job
    if run.state is State.APPROVED:
        return _start_approved(ctx, run, spec, held, owner)
    if run.state is State.CREATED:
        _move(ctx, run, State.ANALYZING, "checking what the job needs, reading the schemas")
    migration = ctx.store.get_migration(run.migration_id, include_deleted=True)
    written = MigrationSpec.model_validate(migration.spec)
    spec = with_connections(ctx.store, written)
    reason = preflight_check(spec, ctx.environ)
    if reason:
        raise TerminalError(reason)
    job = _prepared(ctx, run, spec, held)
    if run.state in (State.CREATED, State.ANALYZING):
        _move(ctx, run, State.PLANNING, "prerequisites resolved, schemas read")
    plan = record_plan(
        ctx.store,
        written,
        migration.version,
        job.describe(),
        run_id=run.id,
        actor=ctx.actor,
        now=ctx.clock.now(),
    )
    return _after_plan(ctx, run, written, plan, job, owner)


def _after_plan(
    ctx: RunContext,
    run: RunRecord,
    spec: MigrationSpec,
    plan: PlanRecord,
    job: Job,
    owner: str,
) -> Job | None:
    """Park the run for its approvers, or go on to running when it needs none."""
    failing = at_least(risks_of(plan), spec.risk.fail_on)
    if failing:
        found = "; ".join(f"{f.rule} ({f.severity.value}): {f.message}" for f in failing)
        raise TerminalError(
            f"risk.fail_on {spec.risk.fail_on}: plan {plan.version} has {found}; see "
            f"moonshift plan {run.migration_id}"
        )
    needed = spec.approvals_needed(run.trigger.value, worst(plan))
    ready = f"plan {plan.version} ready (digest {plan.digest[:12]})"
    if needed:
        unavailable = plan.content.get("unavailable")
        if unavailable:
            raise TerminalError(f"cannot plan for approval: {unavailable}")
        ctx.store.park_for_approval(
            run.id,
            reason=f"{ready}: waiting for {needed} approval(s); moonshift approve "
            f"{run.migration_id} --run {run.id}",
            needed=needed,
            actor=ctx.actor,
            now=ctx.clock.now(),
        )
        return None
    _move(ctx, run, State.AWAITING_APPROVAL, ready)
    _move(ctx, run, State.APPROVED, "approval not required by the spec")
    return _running(ctx, run, job, owner)


def _running(ctx: RunContext, run: RunRecord, job: Job, owner: str) -> Job:
    ctx.store.transition_run(
        run.id,
        State.RUNNING,
        actor=ctx.actor,
        now=ctx.clock.now(),
        reason="job started",
        **_lease(ctx, owner),
    )
    return job


def _start_approved(
    ctx: RunContext, run: RunRecord, spec: MigrationSpec, held: Callable[[], bool], owner: str
) -> Job | None:
    """An approved run starts with the spec it was approved with, if its plan still holds:
    when the source schema or the mapping changed since, the approvals are void and the run
    waits for approval of its new plan."""
    approved = ctx.store.run_plan(run.id)
    job = _prepared(ctx, run, spec, held)
    if approved is not None:
        parts = job.describe()
        written = MigrationSpec.model_validate(approved.spec)
        if "unavailable" not in parts and plan_digest(plan_content(written, parts)) != (
            approved.digest
        ):
            ctx.store.replan_run(
                run.id,
                reason=f"the source schema or the mapping changed since plan "
                f"{approved.digest[:12]} was approved: the approvals are void",
                actor=ctx.actor,
                now=ctx.clock.now(),
            )
            plan = record_plan(
                ctx.store,
                written,
                approved.spec_version,
                parts,
                run_id=run.id,
                actor=ctx.actor,
                now=ctx.clock.now(),
            )
            return _after_plan(ctx, ctx.store.get_run(run.id), written, plan, job, owner)
    return _running(ctx, run, job, owner)


def _prepared(
    ctx: RunContext, run: RunRecord, spec: MigrationSpec, held: Callable[[], bool]
) -> Job:
    job = make_job(ctx, run, spec)
    job.prepare()
    if not held():
        raise OwnershipLost()
    return job


def _lease(ctx: RunContext, owner: str) -> dict[str, Any]:
    now = ctx.clock.now()
    return {
        "lease_owner": owner,
        "lease_expires_at": now + LEASE,
        "heartbeat_at": now,
        "worker_pid": os.getpid(),
    }


def finish_run(
    ctx: RunContext, run_id: int, outcome: Outcome, can_pause: bool, spec: MigrationSpec
) -> RunRecord:
    """Record the end of a job: completed, failed, cancelled, or paused at its checkpoint."""
    fields: dict[str, Any] = {"exit_code": outcome.exit_code, "error_tail": outcome.error_tail}
    if outcome.succeeded:
        run = end_run(ctx, run_id, State.COMPLETED, "job succeeded", spec=spec, **fields)
        if spec.validation is not None and spec.validation.auto and run.state is State.COMPLETED:
            return _validated(ctx, spec, run)
        return run
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
    request = current.control
    if request is None:
        return end_run(ctx, run_id, State.CANCELLED, outcome.stopped, spec=spec, **fields)
    to = request.ending(can_pause)
    resume = None if request.waits_for_operator else ctx.clock.now()
    if to is State.PAUSED:
        fields["not_before"] = resume
    return end_run(ctx, run_id, to, request.reason or outcome.stopped, spec=spec, **fields)


def _validated(ctx: RunContext, spec: MigrationSpec, run: RunRecord) -> RunRecord:
    """``validation: {auto: true}``: the completed copy is validated now; a database out
    of reach leaves it completed, to validate on demand."""
    try:
        found = validate_copy(ctx, spec, run).run
    except (Unavailable, TerminalError) as exc:
        _copy_event(ctx, run, "validation", "skipped", f"not validated: {exc}")
        return ctx.store.get_run(run.id)
    return found or ctx.store.get_run(run.id)


def _move(ctx: RunContext, run: RunRecord, to: State, reason: str) -> None:
    ctx.store.transition_run(run.id, to, actor=ctx.actor, now=ctx.clock.now(), reason=reason)


class _Supervisor:
    """Heartbeats and renews the lease; notices cancellation, control requests and takeover."""

    def __init__(self, ctx: RunContext, run: RunRecord, owner: str) -> None:
        self.ctx = ctx
        self.run_id = run.id
        self.lease = HeldLease(ctx, run.id, owner)
        self._checked = time.monotonic()
        self._run: RunRecord | None = run  # settings given before the worker began hold
        self._progress: Progress | None = None
        self._phase: str | None = None
        self._reported = 0.0
        self._spec_of_run: MigrationSpec | None = None

    def beating(self) -> AbstractContextManager[None]:
        """Heartbeat from a thread while the worker's own thread is busy preparing."""
        return beating(self.lease.renew, HEARTBEAT_SECONDS / 2, "moonshift-preparing")

    def should_stop(self) -> str | None:
        self.lease.renew()
        if self.lease.lost:
            return OWNERSHIP_LOST
        now = time.monotonic()
        if now - self._checked < STATE_CHECK_SECONDS:
            return None
        self._checked = now
        run = self._run = self.ctx.store.get_run(self.run_id)
        if run.state is State.CANCELLED:
            return run.reason or "cancelled"
        if run.control:
            return run.control.reason or run.control.action.value
        # without a daemon watching (run-now --wait), the worker keeps its windows itself
        stop = window_stop(run, self._spec(run), self.ctx.clock.now())
        if stop is None:
            return None
        instant = self.ctx.clock.now()
        if self.ctx.store.request_control(self.run_id, stop, now=instant, unless_asked=True):
            self._run = replace(run, control=stop)
            return stop.reason
        self._checked = 0.0  # an operator asked first: theirs holds, read at the next check
        return None

    def _spec(self, run: RunRecord) -> MigrationSpec:
        if self._spec_of_run is None:
            self._spec_of_run = spec_for(self.ctx.store, run)
        return self._spec_of_run

    def control(self) -> ControlRequest | None:
        return self._run.control if self._run else None

    def overrides(self) -> dict[str, Any]:
        return (self._run.overrides if self._run else None) or {}

    def report(self, progress: Progress) -> None:
        """Keep the job's progress on the run, at most every PROGRESS_SECONDS, and at once
        when a phase after the rows starts (it may hold the copy's thread a long time)."""
        new_phase = progress.phase is not None and progress.phase != self._phase
        self._progress, self._phase = progress, progress.phase
        if new_phase or time.monotonic() - self._reported >= PROGRESS_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._progress is not None and not self.lease.lost:
            self._reported = time.monotonic()
            self.write(progress=self._progress)
            self._progress = None

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.write(checkpoint=checkpoint)

    def write(self, **fields: Any) -> bool:
        """Change the run's fields while this worker holds it: a worker that was taken over
        (it stalled past its lease) must not write over its successor's checkpoint. False,
        and the run counts as lost, when another holds it."""
        lease = self.lease
        if not lease.lost and not self.ctx.store.update_held_run(
            self.run_id, owner=lease.owner, now=self.ctx.clock.now(), **fields
        ):
            lease.lost = True
        return not lease.lost
