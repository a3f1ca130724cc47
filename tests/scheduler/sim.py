"""A simulated worker pool: the engine's real decisions, the real lifecycle code, and jobs
that take simulated time, so a week of schedules plays in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from moonshift.domain.lifecycle import State
from moonshift.engine.loop import Engine, SchedulerConfig
from moonshift.runtime.runs import LEASE, RunContext, spec_for
from moonshift.seams import Outcome
from moonshift.store import StateStore
from moonshift.worker.execute import finish_run, start_run
from tests.helpers import FakeClock

COMMAND_TIME = timedelta(hours=1)


class RecordingLauncher:
    """Records each hand-over and starts nothing: a launched run stays as the scheduler
    wrote it, queued, as a real one does for the second its process needs to start."""

    def __init__(self) -> None:
        self.launched: list[int] = []

    def launch(self, run_id: int, owner: str) -> int:
        self.launched.append(run_id)
        return 10_000 + run_id

    def running(self) -> set[int]:
        return set(self.launched)

    def end(self, run_id: int) -> bool:
        self.launched = [r for r in self.launched if r != run_id]
        return True

    def finished(self) -> list[tuple[int, int, int]]:
        return []


@dataclass
class _Worker:
    started: datetime
    done_before: int
    count: int
    every: timedelta

    def done(self, now: datetime) -> int:
        return min(self.count, self.done_before + int((now - self.started) / self.every))

    def ends_at(self) -> datetime:
        return self.started + (self.count - self.done_before) * self.every


class SimLauncher:
    def __init__(self, store: StateStore, clock: FakeClock, home: Path, owner: str) -> None:
        self.store, self.clock, self.owner = store, clock, owner
        self.ctx = RunContext(store, home, clock, {}, "sim-worker")
        self.workers: dict[int, _Worker] = {}
        self.launched: list[int] = []

    def launch(self, run_id: int, owner: str) -> int:
        run = self.store.get_run(run_id)
        spec = spec_for(self.store, run)
        start_run(self.ctx, run, spec)
        done = int((run.checkpoint or {}).get("done", 0))
        if spec.steps is not None:
            count, every = spec.steps.count, spec.steps.every
        else:  # a command: one step of COMMAND_TIME that cannot pause
            count, every = 1, COMMAND_TIME
        self.workers[run_id] = _Worker(self.clock.now(), done, count, every)
        self.launched.append(run_id)
        return 10_000 + run_id

    def running(self) -> set[int]:
        return set(self.workers)

    def end(self, run_id: int) -> bool:
        self.workers.pop(run_id, None)
        return True

    def finished(self) -> list[tuple[int, int, int]]:
        return []

    def advance(self) -> bool:
        """Let every worker do what it would by now; True if any run ended or paused."""
        now, changed = self.clock.now(), False
        for run_id, worker in list(self.workers.items()):
            self.store.renew_lease(run_id, owner=self.owner, lease_until=now + LEASE, now=now)
            done = worker.done(now)
            self.store.update_run(run_id, now=now, checkpoint={"done": done})
            run = self.store.get_run(run_id)
            spec = spec_for(self.store, run)
            if run.state is State.CANCELLED or run.control or done >= worker.count:
                outcome = (
                    Outcome(stopped=run.control.reason if run.control else "cancelled")
                    if (run.state is State.CANCELLED or run.control)
                    else Outcome()
                )
                finish_run(self.ctx, run_id, outcome, spec.kind == "steps", spec)
                del self.workers[run_id]
                changed = True
        return changed

    def next_event(self) -> datetime | None:
        ends = [w.ends_at() for w in self.workers.values()]
        return min(ends) if ends else None


def make_engine(
    store: StateStore, clock: FakeClock, home: Path, **config: object
) -> tuple[Engine, SimLauncher]:
    launcher = SimLauncher(store, clock, home, "sim-daemon")
    settings = SchedulerConfig(**{"check_interval_seconds": 3600.0, **config})  # type: ignore[arg-type]
    return Engine(store, clock, launcher, settings, daemon_id="sim-daemon", home=home), launcher


def simulate(engine: Engine, launcher: SimLauncher, clock: FakeClock, until: datetime) -> int:
    """Play until ``until``, jumping from one thing to do to the next; returns the ticks."""
    ticks = 0
    while clock.now() < until:
        while True:
            launcher.advance()
            wake = engine.tick()
            ticks += 1
            if not launcher.advance():
                break
        upcoming = [t for t in (wake, launcher.next_event(), until) if t is not None]
        clock.current = max(min(upcoming), clock.now() + timedelta(seconds=1))
    return ticks
