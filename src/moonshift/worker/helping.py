"""A helper worker: copies key ranges of a copy that a worker of another daemon runs, so
one table's ranges spread over several machines. It ends when nothing is left to claim,
or when the run stops running; the run's own worker finishes the run."""

from __future__ import annotations

import logging
import time

from moonshift.domain.lifecycle import State
from moonshift.jobs.copy import CopyJob
from moonshift.runtime.ranges import StoreRangeLeases
from moonshift.runtime.runs import RunContext, copy_id, spec_for, with_connections
from moonshift.seams import JobContext
from moonshift.worker.execute import make_job

log = logging.getLogger("moonshift.worker")
WATCH_SECONDS = 1.0


def help_run(ctx: RunContext, run_id: int, daemon: str) -> None:
    run = ctx.store.get_run(run_id)
    if run.state is not State.RUNNING:
        return
    spec = with_connections(ctx.store, spec_for(ctx.store, run))
    job = make_job(ctx, run, spec)
    if not isinstance(job, CopyJob):
        return
    leases = StoreRangeLeases(ctx, run, copy_id(ctx.store, run), daemon)
    watch = _RunWatch(ctx, run_id)
    outcome = job.help(JobContext(watch.should_stop, ranges=leases))
    log.info("helped run %d of %s as %s: %s", run.id, run.migration_id, leases.owner, outcome)


class _RunWatch:
    """The run's state, looked at once a second: a helper stops when the run does."""

    def __init__(self, ctx: RunContext, run_id: int) -> None:
        self.ctx, self.run_id = ctx, run_id
        self._at, self._reason = 0.0, ""

    def should_stop(self) -> str | None:
        if time.monotonic() - self._at >= WATCH_SECONDS:
            run = self.ctx.store.get_run(self.run_id)
            going = run.state is State.RUNNING and not run.control
            self._at, self._reason = time.monotonic(), "" if going else f"run {run.state.value}"
        return self._reason or None
