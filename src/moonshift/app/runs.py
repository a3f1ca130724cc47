"""Runs: start one now (here, in a background worker, or through the daemon), follow it,
cancel it, read its logs, and the audit history."""

from __future__ import annotations

import builtins
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain.lifecycle import State
from moonshift.domain.policies import Overlap
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict, NotFound
from moonshift.files import open_private
from moonshift.jobs.command import log_paths
from moonshift.jobs.registry import kind_of
from moonshift.runtime.runs import RunContext, log_dir
from moonshift.store.records import AuditEntry, RunRecord, Trigger
from moonshift.store.store import DuplicateRunError, RunActiveError
from moonshift.timing import closed_now, get_zone
from moonshift.timing.zones import describe
from moonshift.worker.execute import claim_and_execute
from moonshift.worker.process import worker_actor

_WORKERS: list[subprocess.Popen[bytes]] = []


LOGS_LOOKED_AT = 20


class Runs(Family):
    def run_now(
        self,
        migration_id: str,
        *,
        actor: str,
        trigger: Trigger = Trigger.MANUAL,
        reason: str | None = None,
        ignore_windows: bool = False,
    ) -> views.Run:
        """Record a MANUAL run of a migration; ``execute`` or a worker runs it.

        A manual run starts at once, so outside every window of the migration it is refused
        (WindowsClosed, naming the next opening in the migration's zone), unless its windows
        are advisory (``outside_window: continue``) or ``ignore_windows``: then no window
        pauses, fails or warns the run, to its end.

        A manual run runs alone: while a run of the migration has started and not ended
        (preparing, running, paused, validating), or another manual run waits to start, it is
        refused with a Conflict naming that run, unless the migration's ``overlap`` is
        ``allow``. Queued fires and backfill runs wait behind it at their gates. The store
        checks and inserts in one transaction, so of two requests at the same instant, from
        any face or process, one is refused."""
        now = self.ctx.clock.now()
        spec = self.ctx.spec_of(migration_id)
        manual = trigger is Trigger.MANUAL
        if manual and not ignore_windows:
            _refuse_outside_windows(spec, now)
        alone = manual and spec.overlap is not Overlap.ALLOW
        # A manual run's nominal time is only its request time: two requests in the same
        # microsecond are two runs, so step past an instant already taken.
        for step in range(100):
            try:
                run = self.store.create_run(
                    migration_id,
                    trigger=trigger,
                    nominal_time=now + timedelta(microseconds=step),
                    actor=actor,
                    now=now,
                    reason=(reason or f"run-now by {actor}")
                    + (", its windows ignored" if ignore_windows else ""),
                    alone=alone,
                    ignore_windows=manual and ignore_windows,
                )
                return views.Run.model_validate(run)
            except DuplicateRunError:
                continue
            except RunActiveError as exc:
                raise Conflict(_busy(exc.run)) from None
        raise Conflict(f'too many manual runs of "{migration_id}" at {now.isoformat()}')

    def start(self, migration_id: str, *, actor: str, ignore_windows: bool = False) -> views.Run:
        """Record a MANUAL run for a daemon to start at once: refused outside every window
        as ``run_now`` is (unless ``ignore_windows``); it still waits for its dependencies
        and exclusions. Unavailable without a running daemon."""
        self.store.get_migration(migration_id)
        self.ctx.require_daemon("start it")
        run = self.run_now(
            migration_id,
            actor=actor,
            reason=f"start by {actor}",
            ignore_windows=ignore_windows,
        )
        self.store.announce()
        return run

    def execute(self, run_id: int, *, owner: str | None = None) -> views.Run:
        """Execute a run in this process (the foreground way).

        Without ``owner`` it first claims the run, so that no daemon starts it too; when a
        daemon got there first, it follows the run instead.
        """
        ctx = RunContext(
            self.store, self.ctx.settings.home, self.ctx.clock, self.ctx.environ, worker_actor()
        )
        run = claim_and_execute(ctx, run_id, owner)
        return self.wait(run_id) if run is None else views.Run.model_validate(run)

    def start_worker(self, run_id: int) -> views.WorkerStarted:
        """Execute a run in a detached worker process."""
        self.store.get_run(run_id)
        out = self.ctx.settings.home / "logs" / "workers"
        with open_private(out / f"{run_id}.log", append=True) as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moonshift.worker", str(run_id)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.ctx.settings.child_env(self.ctx.environ),
                start_new_session=True,
            )
        # Keep the handle so that the finished worker is reaped, not left a zombie.
        _WORKERS[:] = [p for p in _WORKERS if p.poll() is None] + [process]
        return views.WorkerStarted(run=run_id, worker_pid=process.pid)

    def reports_progress(self, migration_id: str) -> bool:
        """Whether its runs report per-table progress while they run (copies do)."""
        return kind_of(self.ctx.spec_of(migration_id).kind).reports_progress

    def get(self, run_id: int) -> views.Run:
        return views.Run.model_validate(self.store.get_run(run_id))

    def list(self, migration_id: str, *, limit: int = 20) -> builtins.list[views.Run]:
        """A migration's runs, newest first (a deleted migration's too)."""
        self.store.get_migration(migration_id, include_deleted=True)
        return [
            views.Run.model_validate(r) for r in self.store.list_runs(migration_id, limit=limit)
        ]

    def page(
        self, migration_id: str, *, limit: int = 20, before: int | None = None
    ) -> views.Page[views.Run]:
        """A page of a migration's runs, newest first; ``next`` is the ``before`` of the
        next page."""
        self.store.get_migration(migration_id, include_deleted=True)
        found = self.store.list_runs(migration_id, limit=limit + 1, before=before)
        items = [views.Run.model_validate(r) for r in found[:limit]]
        more = len(found) > limit
        return views.Page[views.Run](items=items, next=str(items[-1].id) if more else None)

    def cancel(self, run_id: int, *, actor: str, reason: str | None = None) -> views.Run:
        """Cancel a run that has not ended; its worker stops the job at its next check."""
        run = self.store.transition_run(
            run_id,
            State.CANCELLED,
            actor=actor,
            now=self.ctx.clock.now(),
            reason=reason or f"cancelled by {actor}",
        )
        return views.Run.model_validate(run)

    def log(self, run_id: int, stream: Literal["stdout", "stderr"] = "stdout") -> views.Log:
        """What a command run wrote to standard output or standard error."""
        run = self.store.get_run(run_id)
        stdout, stderr = log_paths(log_dir(self.ctx.settings.home, run.migration_id), run.id)
        path = stdout if stream == "stdout" else stderr
        if not path.exists():
            raise NotFound(f"run {run_id} has no {stream} log here ({path})")
        content = path.read_text(encoding="utf-8", errors="replace")
        return views.Log(run=run_id, stream=stream, path=str(path), content=content)

    def latest_log(
        self, migration_id: str, stream: Literal["stdout", "stderr"] = "stdout"
    ) -> views.Log:
        """The log of the newest of a migration's recent runs that wrote one."""
        self.store.get_migration(migration_id)
        for run in self.store.list_runs(migration_id, limit=LOGS_LOOKED_AT):
            try:
                return self.log(run.id, stream)
            except NotFound:
                continue
        raise NotFound(
            f'no recent run of "{migration_id}" has a {stream} log here (a copy writes none: '
            f"`moonshift history {migration_id}` shows its steps)"
        )

    def wait(
        self,
        run_id: int,
        *,
        poll: float = 0.5,
        on_change: Callable[[views.Run], None] | None = None,
    ) -> views.Run:
        """Follow a run until it leaves the active states."""
        last: State | None = None
        while True:
            run = self.get(run_id)
            if run.state != last and on_change:
                on_change(run)
            last = run.state
            if not run.active:
                return run
            self.ctx.clock.sleep(poll)

    def history(self, migration_id: str, *, limit: int = 100) -> builtins.list[views.AuditEntry]:
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
        merged = sorted(entries + events, key=lambda e: (e.at, e.id), reverse=True)[:limit]
        return [views.AuditEntry.model_validate(e) for e in merged]


class WindowsClosed(Conflict):
    """A manual run asked for outside every window of its migration. ``closed`` says when
    the next opens; ``advice`` how to go on (a face may name its own option instead)."""

    LEFT_ALONE = "no window then pauses, fails or warns it"

    def __init__(self, closed: str) -> None:
        self.closed = closed
        self.advice = f"start it then, or ignore its windows to run it now ({self.LEFT_ALONE})"
        super().__init__(f"{closed}; {self.advice}")


def _refuse_outside_windows(spec: MigrationSpec, now: datetime) -> None:
    closed = closed_now(now, spec.window_set(), spec.behavior())
    if closed is None:
        return
    zone = get_zone(spec.timezone)
    if closed.opens_at is None:
        when = "and none of its windows opens again"
    else:
        when = f"the next, {closed.window}, opens at {describe(closed.opens_at, zone)}"
    raise WindowsClosed(f'"{spec.id}" is outside every window at {describe(now, zone)}: {when}')


def _busy(run: RunRecord) -> str:
    since = run.created_at.isoformat(timespec="seconds")
    return (
        f'"{run.migration_id}" already has run {run.id}, {run.state.value} (created {since} '
        f"by {run.created_by}): a manual run starts only once it has ended; wait for it, or "
        f"cancel it"
    )
