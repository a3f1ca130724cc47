"""A run in flight, as the engine and the workers both handle it: who acts on it, how long
its lease lasts, and how it ends."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from moonshift.domain.lifecycle import IllegalTransitionError, State
from moonshift.domain.spec import MigrationSpec
from moonshift.runtime.plans import planned_spec
from moonshift.seams import Clock, WorkerStore
from moonshift.store.records import RunRecord
from moonshift.store.scheduling import NewRun

# How long a worker's claim on a run lasts without a heartbeat; tests shorten it.
LEASE = timedelta(seconds=float(os.environ.get("MOONSHIFT_LEASE_SECONDS", "15")))
# How often a holder renews it: a third of it at most, so that one late beat on a loaded
# machine does not let it expire under a worker that is alive.
HEARTBEAT_SECONDS = min(2.0, LEASE.total_seconds() / 3)


@dataclass(frozen=True)
class RunContext:
    store: WorkerStore
    home: Path
    clock: Clock
    environ: Mapping[str, str]
    actor: str


class HeldLease:
    """A run's lease as the worker holding it under ``owner`` keeps it: renewed at most
    every HEARTBEAT_SECONDS, and ``lost`` for good once a renewal is refused (the worker
    stalled past it and the run was taken over)."""

    def __init__(self, ctx: RunContext, run_id: int, owner: str) -> None:
        self.ctx, self.run_id, self.owner = ctx, run_id, owner
        self.lost = False
        self._renewed = time.monotonic()

    def renew(self) -> None:
        """Renew it when a renewal is due (any thread may call this, as often as it likes)."""
        if self.lost or time.monotonic() - self._renewed < HEARTBEAT_SECONDS:
            return
        self._renewed = time.monotonic()
        now = self.ctx.clock.now()
        self.lost = not self.ctx.store.renew_lease(
            self.run_id, owner=self.owner, lease_until=now + LEASE, now=now
        )

    def held(self) -> bool:
        """Whether the run is still held, renewing its lease now."""
        self._renewed = 0.0
        self.renew()
        return not self.lost


def log_dir(home: Path, migration_id: str) -> Path:
    return home / "logs" / migration_id


def spec_for(store: WorkerStore, run: RunRecord) -> MigrationSpec:
    """The spec a run follows: its plan's once planned, else the migration's current one."""
    return planned_spec(store, run) or MigrationSpec.model_validate(
        store.get_migration(run.migration_id, include_deleted=True).spec
    )


def with_connections(store: WorkerStore, spec: MigrationSpec) -> MigrationSpec:
    """The spec with its named connections' URLs filled in (TerminalError naming the field
    when one does not exist)."""
    names = spec.connection_names()
    if not names:
        return spec
    return spec.with_connections(store.connection_urls(sorted(set(names.values()))))


def copy_id(store: WorkerStore, run: RunRecord) -> int:
    """A copy is a run and its retries: they share the first attempt's checkpoints."""
    while run.retry_of is not None:
        run = store.get_run(run.retry_of)
    return run.id


def end_run(
    ctx: RunContext,
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


def queue_retry(ctx: RunContext, run: RunRecord, spec: MigrationSpec) -> RunRecord | None:
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
        ignore_windows=run.ignore_windows,
    )
    created = ctx.store.add_runs(run.migration_id, [new], actor=ctx.actor, now=now)
    return created[0] if created else None
