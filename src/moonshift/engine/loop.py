"""The scheduling engine: one ``tick`` plans due fires, supervises runs and dispatches work.

The store is the truth; the engine keeps only a heap of next fire times to know when to
wake, so an idle daemon with many schedules sleeps instead of scanning them.
"""

from __future__ import annotations

import copy
import gc
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from moonshift.domain import lifecycle
from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.policies import Overlap
from moonshift.domain.spec import MigrationSpec
from moonshift.engine import gates
from moonshift.engine.planning import plan_fires
from moonshift.engine.preflight import Preflight
from moonshift.jobs.registry import kind_of
from moonshift.runtime.runs import LEASE, RunContext, end_run, spec_for
from moonshift.runtime.windows import watches_no_window, window_stop
from moonshift.seams import Clock, EngineStore, Launcher
from moonshift.store.records import (
    Glance,
    MigrationRecord,
    RunRecord,
    ScheduleRecord,
    ScheduleStatus,
    Trigger,
)
from moonshift.store.scheduling import DueBatch, NewRun, Waiting
from moonshift.timing import Event

FULL_RELOAD_SECONDS = 300.0
# Due schedules claimed per transaction, and queued runs gated per page: big enough that a
# burst of fires costs a few statements, small enough that one transaction stays short.
PLAN_BATCH = 2500
DISPATCH_PAGE = 2500
log = logging.getLogger("moonshift.scheduler")
HELP_SECONDS = 1.0  # how often to look for key ranges of other daemons' copies


@dataclass(frozen=True)
class SchedulerConfig:
    check_interval_seconds: float = 30.0  # the longest the engine sleeps
    max_concurrent_runs: int = 4  # workers this daemon runs at once
    timezone: str = "UTC"  # for display of times without a zone of their own
    pools: Mapping[str, int] = field(default_factory=dict)  # pool -> runs at once, all daemons
    poll_seconds: float = 1.0  # how often to look for changes made by others


class Engine:
    def __init__(
        self,
        store: EngineStore,
        clock: Clock,
        launcher: Launcher,
        config: SchedulerConfig,
        *,
        daemon_id: str,
        home: Path,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.store, self.clock, self.launcher, self.config = store, clock, launcher, config
        self.daemon_id = daemon_id
        self.worker = RunContext(store, home, clock, environ or {}, f"daemon:{daemon_id}")
        self._heap: list[tuple[datetime, str]] = []
        self._next: dict[str, datetime] = {}
        self._seen: datetime | None = None
        self._loaded = False
        self._specs: dict[tuple[str, int], MigrationSpec] = {}
        self._wake_hints: list[datetime] = []
        self._backfill_parallel: dict[int, int] = {}
        self._exclusion_cache: tuple[datetime | None, dict[str, dict[str, str]]] | None = None
        self._full_reload = time.monotonic()
        self._helped_at = 0.0
        self._exited: list[tuple[int, int, int]] = []  # workers gone, not yet looked at
        self.preflight = Preflight(store, clock, environ or {})

    # -- the loop body --------------------------------------------------------------------

    def tick(self) -> datetime:
        """Do everything due now; returns when the engine next has something to do."""
        with _collector_paused():
            return self._tick()

    def _tick(self) -> datetime:
        now = self.clock.now()
        self._wake_hints = []
        # One statement says which questions have answers; an idle wake-up asks no more.
        glance = self.store.glance(now, daemon_id=self.daemon_id)
        self._refresh_heap(glance.schedules_changed_at)
        working, ended = self._supervise(now, glance)
        round_ = self._round(working)
        busy = ended or glance.runnable
        if busy:
            self.dispatch(now, round_=round_)  # runs queued before go first
        if self._heap and self._heap[0][0] <= now:
            self.plan(now, round_)
            busy = True
        if glance.help_wanted:
            self.help_copies(now)
        self._wake_hints += self.preflight.tick(
            now, self._specs_of, changed_at=glance.schedules_changed_at
        )
        later = self.store.next_not_before(now) if busy else glance.next_not_before
        if later is not None:
            self._wake_hints.append(later)
        return self._next_wake(now)

    def _next_wake(self, now: datetime) -> datetime:
        candidates = [
            now + timedelta(seconds=self.config.check_interval_seconds),
            *self._wake_hints,
        ]
        while self._heap and self._next.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # stale entry
        if self._heap:
            candidates.append(self._heap[0][0])
        return max(now, min(candidates))

    # -- plan: due fires become runs --------------------------------------------------------

    def forget(self) -> None:
        """Read every schedule again at the next tick (what this engine holds may be ahead
        of the store: the state store went away in the middle of a tick)."""
        self._loaded = False

    def _refresh_heap(self, changed_at: datetime | None) -> None:
        """Take in schedules changed since last time (all of them now and then, as a net);
        ``changed_at``: the latest change of any schedule, just read."""
        monotonic = time.monotonic()
        if monotonic - self._full_reload > FULL_RELOAD_SECONDS:
            self._loaded, self._full_reload = False, monotonic
        if self._loaded and changed_at == self._seen:
            return
        seen = self._seen if self._loaded else None
        for migration_id, next_fire, status in self.store.schedule_times(seen):
            if status == ScheduleStatus.ACTIVE.value and next_fire is not None:
                if self._next.get(migration_id) != next_fire:
                    self._next[migration_id] = next_fire
                    heapq.heappush(self._heap, (next_fire, migration_id))
            else:
                self._next.pop(migration_id, None)
        # read before the rows: a change that commits between the two is read again
        self._seen, self._loaded = changed_at, True

    def plan(self, now: datetime, round_: _Round | None = None) -> list[int]:
        """Every due fire becomes its run, a batch of schedules per transaction; returns the
        ids of the runs created. With ``round_`` (this tick's dispatch), the new runs are
        gated before they are written: those that may start are inserted claimed, and
        started once their transaction commits; those that wait, with their reason."""
        created: list[int] = []
        while True:
            chosen: list[_Chosen] = []
            fails: list[tuple[RunRecord, MigrationSpec, str]] = []
            with self.store.claim_due(now, limit=PLAN_BATCH) as batch:
                ids = [migration.id for _, migration in batch.items]
                busy, queued = self._active_by_migration(ids)
                for schedule, migration in batch.items:
                    self._plan_one(batch, schedule, migration, now, busy, queued)
                if round_ is not None and round_.open:
                    chosen, fails = self._gate_fresh(batch, now, round_, busy, queued)
            created += batch.created
            stored = set(batch.created)
            self._start(chosen, stored, now)
            for run, spec, reason in fails:
                if run.id in stored:
                    self._fail_before_start(run, spec, reason)
            if len(batch.items) < PLAN_BATCH:
                return created

    def _gate_fresh(
        self,
        batch: DueBatch,
        now: datetime,
        round_: _Round,
        busy: dict[str, list[RunRecord]],
        queued: dict[str, list[RunRecord]],
    ) -> tuple[list[_Chosen], list[tuple[RunRecord, MigrationSpec, str]]]:
        """Gate the runs a batch is about to insert, as dispatch would once they were
        stored; they are written claimed or waiting (one insert, no later update)."""
        fresh = sorted(batch.pending(), key=lambda item: (item[0].nominal_time, item[0].id))
        if not fresh:
            return [], []
        for run, _ in sorted(fresh, key=lambda item: item[0].id):
            queued[run.migration_id].append(run)
        facts = round_.facts(busy, queued, fresh=[run for run, _ in fresh])
        chosen, waits, fails = self._gate_page(fresh, now, facts, round_)
        batch.wait(waits)
        batch.claim([run.id for run, _, _ in chosen], owner=self.daemon_id, lease_until=now + LEASE)
        return chosen, fails

    def _plan_one(
        self,
        batch: DueBatch,
        schedule: ScheduleRecord,
        migration: MigrationRecord,
        now: datetime,
        working: dict[str, list[RunRecord]],
        queued: dict[str, list[RunRecord]],
    ) -> None:
        spec = self._spec(migration)
        trigger = spec.trigger()
        assert schedule.next_fire_at is not None
        # immediate (an event schedule is never due): one run, then the schedule is done
        if trigger is None or isinstance(trigger, Event):
            new = [
                NewRun(schedule.next_fire_at, Trigger.SCHEDULED, logical_date=schedule.next_fire_at)
            ]
            batch.fire(
                schedule,
                runs=new,
                dropped=[],
                next_fire_at=None,
                last_fire_at=schedule.next_fire_at,
                actor=self.worker.actor,
                completed=True,
            )
            return
        fires = plan_fires(trigger, schedule.next_fire_at, now, spec.misfire)
        runs, skipped = [], []
        busy = working.get(migration.id, [])
        waiting = len(queued.get(migration.id, []))
        for nominal in fires.fires:
            reason = _overlap_skip(spec.overlap, busy, waiting)
            if reason:
                skipped.append((nominal, reason))
                continue
            if spec.overlap is Overlap.CANCEL_RUNNING:
                for run in busy:
                    batch.control(
                        run.id,
                        ControlRequest(
                            action=Action.STOP,
                            reason=f"cancelled: fire {nominal.isoformat()} replaces it",
                        ),
                    )
            runs.append(NewRun(nominal, Trigger.SCHEDULED, logical_date=nominal))
            waiting += 1
        completed = fires.next_fire_at is None
        batch.fire(
            schedule,
            runs=runs,
            dropped=fires.dropped,
            skipped=skipped,
            next_fire_at=fires.next_fire_at,
            last_fire_at=fires.last_fire_at or schedule.last_fire_at,
            actor=self.worker.actor,
            completed=completed,
        )
        if fires.next_fire_at is not None:
            self._next[migration.id] = fires.next_fire_at
            heapq.heappush(self._heap, (fires.next_fire_at, migration.id))
        else:
            self._next.pop(migration.id, None)

    # -- supervise: dead workers, leases, windows, max_duration -----------------------------

    def supervise(self, now: datetime) -> list[RunRecord]:
        """Take over runs whose workers are gone, watch the others; returns the runs that
        hold a worker now."""
        return self._supervise(now, None)[0]

    def _supervise(self, now: datetime, glance: Glance | None) -> tuple[list[RunRecord], bool]:
        """``supervise``, reading only what ``glance`` says is there; also whether a
        worker ended since the last tick (then the glance is out of date)."""
        self._exited += self.launcher.finished()
        ended = bool(self._exited)
        while self._exited:  # one the store fails on is looked at again next tick
            run_id, pid, code = self._exited[0]
            run = self.store.get_run(run_id)
            mine = run.lease_owner == self.daemon_id and run.worker_pid == pid
            if run.state in lifecycle.WORKING and mine:  # not a new worker's since
                self.take_over(run, f"its worker exited with code {code}")
            self._exited.pop(0)
        if glance is None or glance.leases_expired or ended:
            for run in self.store.expired_leases(now):
                self.take_over(run, "its lease expired (worker or daemon died)")
                ended = True
        working = self.store.working_runs() if glance is None or glance.holding or ended else []
        for run in working:
            if run.state is State.RUNNING and not run.control:
                self._watch(run, now)
        leases = [run.lease_expires_at for run in working if run.lease_expires_at is not None]
        if leases:
            self._wake_hints.append(min(leases))
        return working, ended

    def _watch(self, run: RunRecord, now: datetime) -> None:
        spec = self._spec_of_run(run)
        if spec.max_duration and run.started_at and now - run.started_at >= spec.max_duration:
            self.store.request_control(
                run.id, ControlRequest(action=Action.FAIL, reason="max_duration"), now=now
            )
            return
        behavior = spec.behavior()
        stop = window_stop(run, spec, now)
        if stop is not None:
            self.store.request_control(run.id, stop, now=now, unless_asked=True)
            return
        windows = spec.window_set()
        closes = windows.closes_at(now) if windows else None
        if closes is not None and not watches_no_window(run, spec):
            warn_at = closes - behavior.ending_warning
            if now >= warn_at and run.warned_at is None:
                self.store.record_event(
                    now=now,
                    migration_id=run.migration_id,
                    event_type="window_ending",
                    outcome="warned",
                    run_id=run.id,
                    reason=f"window closes at {closes.isoformat()}",
                )
                self.store.update_run(run.id, now=now, warned_at=now)
            self._wake_hints += [t for t in (warn_at, closes) if t > now]
        if spec.max_duration and run.started_at:
            self._wake_hints.append(run.started_at + spec.max_duration)

    def take_over(self, run: RunRecord, why: str) -> RunRecord:
        """A run whose worker is gone: prepare it again if it had not started running,
        resume it from its checkpoint if its kind can, else fail it (and let its retry
        policy queue the next attempt)."""
        spec = self._spec_of_run(run)
        log.warning("taking over run %d of %s: %s", run.id, run.migration_id, why)
        if run.state in lifecycle.PREPARING:
            reason = f"taken over: {why}; nothing was written, the next worker prepares it again"
            self.store.requeue_run(
                run.id,
                lost=(run.lease_owner, run.lease_expires_at),
                reason=reason,
                actor=self.worker.actor,
                now=self.clock.now(),
            )
            return self.store.get_run(run.id)
        if run.state is State.RUNNING and kind_of(spec.kind).can_pause:
            return end_run(
                self.worker,
                run.id,
                State.PAUSED,
                f"taken over: {why}",
                spec=spec,
                not_before=self.clock.now(),
            )
        return end_run(self.worker, run.id, State.FAILED, f"worker lost: {why}", spec=spec)

    # -- dispatch: queued runs that may start now -----------------------------------------

    def dispatch(
        self, now: datetime, working: list[RunRecord] | None = None, round_: _Round | None = None
    ) -> None:
        """Gate every runnable run, a page at a time, and claim those that may start in one
        transaction per page. ``working``: the runs holding a worker, if just read;
        ``round_``: this tick's dispatch so far, shared with ``plan``."""
        round_ = round_ or self._round(working)
        after: tuple[datetime, int] | None = None
        while round_.open:
            page = self.store.runnable(now, limit=DISPATCH_PAGE, after=after)
            if not page:
                return
            ids = sorted({migration.id for _, migration in page})
            active = self._active_by_migration(ids, [run for run, _ in page])
            chosen, waits, fails = self._gate_page(page, now, round_.facts(*active), round_)
            self.store.set_waiting(waits, now=now)
            claimed = self.store.claim_runs(
                [run.id for run, _, _ in chosen],
                owner=self.daemon_id,
                lease_until=now + LEASE,
                now=now,
            )
            self._start(chosen, claimed, now)
            for run, spec, reason in fails:
                self._fail_before_start(run, spec, reason)
            if len(page) < DISPATCH_PAGE:
                return
            after = (page[-1][0].nominal_time, page[-1][0].id)

    def _round(self, working: list[RunRecord] | None) -> _Round:
        slots = self.config.max_concurrent_runs - len(self.launcher.running())

        def holding() -> tuple[dict[str, list[RunRecord]], dict[str, dict[str, str]]]:
            by_migration: dict[str, list[RunRecord]] = defaultdict(list)
            for run in self.store.working_runs() if working is None else working:
                by_migration[run.migration_id].append(run)
            return by_migration, self._exclusions()

        return _Round(slots, holding)

    def _gate_page(
        self,
        candidates: list[tuple[RunRecord, MigrationRecord]],
        now: datetime,
        facts: _Facts,
        round_: _Round,
    ) -> tuple[list[_Chosen], list[Waiting], list[tuple[RunRecord, MigrationSpec, str]]]:
        """Gate one page of runnable runs: those that may start, what the waiting ones
        record, and those that fail before they start. A page that leaves no worker slot
        closes the round: later runs are not gated this tick."""
        chosen: list[_Chosen] = []
        waits: list[Waiting] = []
        fails: list[tuple[RunRecord, MigrationSpec, str]] = []
        for run, migration in candidates:
            spec = self._spec(migration)
            gate = self._gate(run, spec, migration, now, facts)
            if gate.verdict is gates.Verdict.GO:
                gate = self._slot_gate(spec, round_.slots, round_.pool_use)
            if gate.verdict is gates.Verdict.WAIT:
                waits += self._wait(run, gate)
            elif gate.verdict is gates.Verdict.FAIL:
                fails.append((run, spec, gate.reason))
            else:
                chosen.append((run, spec, migration))
                round_.slots -= 1
                if spec.pool:
                    round_.pool_use[spec.pool] = round_.pool_use.get(spec.pool, 0) + 1
                facts.started(_claimed(run))
        if round_.slots <= 0:
            round_.open = False
        return chosen, waits, fails

    def _start(self, chosen: list[_Chosen], claimed: set[int], now: datetime) -> None:
        """Hand the runs claimed to workers (once their claim has committed)."""
        for run, spec, migration in chosen:
            if run.id not in claimed:
                continue  # another daemon was quicker
            if not self.launcher.end(run.id):
                # a worker started for it before is alive (it stalled past its lease, and
                # the run was taken over and claimed again): one run never has two workers
                self.store.release_run(run.id, now=now)
                continue
            pid = self.launcher.launch(run.id, self.daemon_id)
            kind = "resume" if run.state is State.PAUSED else run.trigger.value
            log.info("started run %d of %s (%s, worker pid %d)", run.id, migration.id, kind, pid)
            self._wake_hints += self._deadlines(spec, now)

    def help_copies(self, now: datetime) -> None:
        """Spare workers copy key ranges of copies that other daemons run (daemons sharing
        a PostgreSQL store), at most once a second."""
        if time.monotonic() - self._helped_at < HELP_SECONDS:
            return
        self._helped_at = time.monotonic()
        busy = self.launcher.running()
        slots = self.config.max_concurrent_runs - len(busy)
        if slots <= 0:
            return
        for run_id in self.store.runs_to_help(daemon_id=self.daemon_id, now=now):
            if run_id in busy:
                continue
            pid = self.launcher.launch_helper(run_id, self.daemon_id)
            log.info("helping run %d with its key ranges (worker pid %d)", run_id, pid)
            slots -= 1
            if not slots:
                return

    def _wait(self, run: RunRecord, gate: gates.Gate) -> list[Waiting]:
        """What a run that must wait records, if that changed (written with its page)."""
        self._wake_hints += [t for t in (gate.not_before, gate.recheck_at) if t]
        if gate.reason == run.waiting_for and gate.not_before == run.not_before:
            return []
        keep = gate.not_before or (run.not_before if run.state is State.PAUSED else None)
        return [Waiting(run.id, gate.reason, keep)]

    def _deadlines(self, spec: MigrationSpec, started: datetime) -> list[datetime]:
        """When a run started now must be looked at: its max_duration, its window's close."""
        found = [started + spec.max_duration] if spec.max_duration else []
        windows = spec.window_set()
        closes = windows.closes_at(started) if windows else None
        if closes is not None:
            found += [closes - spec.behavior().ending_warning, closes]
        return [t for t in found if t > started]

    def _gate(
        self,
        run: RunRecord,
        spec: MigrationSpec,
        migration: MigrationRecord,
        now: datetime,
        facts: _Facts,
    ) -> gates.Gate:
        if migration.deleted_at is not None:
            return gates.Gate(gates.Verdict.FAIL, "the migration was deleted")
        if not migration.enabled and run.trigger in (Trigger.SCHEDULED, Trigger.EVENT):
            return gates.Gate(gates.Verdict.WAIT, "waiting: the migration is disabled")
        checks: list[Callable[[], gates.Gate]] = [
            lambda: gates.exclusion_gate(spec, facts.running, facts.excluded_by.get(spec.id, {}))
        ]
        if run.state is State.CREATED:
            others = facts.busy.get(migration.id, []) + facts.queued.get(migration.id, [])
            checks = [
                lambda: gates.overlap_gate(run, spec, others, self._parallel(run)),
                *checks,
                lambda: gates.dependency_gate(
                    run,
                    spec,
                    {
                        d.migration: facts.latest(d.migration, run, self.store)
                        for d in spec.depends_on
                    },
                    now,
                ),
            ]
        for check in checks:
            gate = check()
            if gate.verdict is not gates.Verdict.GO:
                return gate
        return gates.window_gate(run, spec, now)

    def _slot_gate(self, spec: MigrationSpec, slots: int, pool_use: dict[str, int]) -> gates.Gate:
        if slots <= 0:
            limit = self.config.max_concurrent_runs
            return gates.Gate(gates.Verdict.WAIT, f"waiting for a free worker (max {limit})")
        if spec.pool and spec.pool in self.config.pools:
            limit = self.config.pools[spec.pool]
            used = self.store.count_pool(spec.pool) + pool_use.get(spec.pool, 0)
            if used >= limit:
                return gates.Gate(
                    gates.Verdict.WAIT, f"waiting: pool {spec.pool} is full ({used}/{limit})"
                )
        return gates.Gate.go()

    def _fail_before_start(self, run: RunRecord, spec: MigrationSpec, reason: str) -> None:
        now = self.clock.now()
        if run.state is State.CREATED:
            self.store.transition_run(
                run.id,
                State.ANALYZING,
                actor=self.worker.actor,
                now=now,
                reason="checking start conditions",
            )
        end_run(self.worker, run.id, State.FAILED, reason, spec=spec)

    # -- facts ------------------------------------------------------------------------------

    def _spec(self, migration: MigrationRecord) -> MigrationSpec:
        key = (migration.id, migration.version)
        if key not in self._specs:
            self._specs[key] = MigrationSpec.model_validate(migration.spec)
        return self._specs[key]

    def _parallel(self, run: RunRecord) -> int:
        if run.backfill_id is None:
            return 1
        if run.backfill_id not in self._backfill_parallel:
            self._backfill_parallel[run.backfill_id] = self.store.get_backfill(
                run.backfill_id
            ).parallel
        return self._backfill_parallel[run.backfill_id]

    def _specs_of(self, migration_ids: set[str]) -> dict[str, MigrationSpec]:
        return {m.id: self._spec(m) for m in self.store.migrations_by_id(sorted(migration_ids))}

    def _live_specs(self) -> dict[str, MigrationSpec]:
        """The spec of every migration not deleted, reading only those not known yet."""
        versions = self.store.migration_versions()
        known = {i: s for i, v in versions.items() if (s := self._specs.get((i, v)))}
        unknown = [i for i in versions if i not in known]
        return known | {m.id: self._spec(m) for m in self.store.migrations_by_id(unknown)}

    def _spec_of_run(self, run: RunRecord) -> MigrationSpec:
        return spec_for(self.store, run)

    def _active_by_migration(
        self, migration_ids: list[str], known: list[RunRecord] | None = None
    ) -> tuple[dict[str, list[RunRecord]], dict[str, list[RunRecord]]]:
        """Runs of these migrations that have started and not ended (paused ones too), and
        those still queued, each by migration; ``known``: active runs just read."""
        known = known or []
        busy: dict[str, list[RunRecord]] = defaultdict(list)
        queued: dict[str, list[RunRecord]] = defaultdict(list)
        others = self.store.active_runs(migration_ids, besides=[run.id for run in known])
        for run in sorted([*others, *known], key=lambda run: run.id):
            (queued if run.state is State.CREATED else busy)[run.migration_id].append(run)
        return busy, queued

    def _exclusions(self) -> dict[str, dict[str, str]]:
        """migration -> {other migration that excludes it: reason}, for symmetry. Rebuilt
        only when migrations changed."""
        changed = self.store.migrations_changed_at()
        if self._exclusion_cache is None or self._exclusion_cache[0] != changed:
            found: dict[str, dict[str, str]] = defaultdict(dict)
            for migration_id, spec in self._live_specs().items():
                for exclusion in spec.exclude_concurrent:
                    found[exclusion.migration][migration_id] = exclusion.reason
            self._exclusion_cache = (changed, found)
        return self._exclusion_cache[1]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A burst of fires makes tens of thousands of records that live until the tick ends;
    the cyclic garbage collector would walk them all again each time they grow by a quarter
    (a fifth of a 10,000-fire tick). A tick makes no cycles worth collecting early."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _claimed(run: RunRecord) -> RunRecord:
    """``run`` as the facts count it once claimed: holding a worker. A shallow copy: a
    ``dataclasses.replace`` builds all 31 fields again, six times slower, 10,000 times a
    burst."""
    claimed = copy.copy(run)
    object.__setattr__(claimed, "state", State.APPROVED)
    return claimed


def _overlap_skip(overlap: Overlap, busy: list[RunRecord], waiting: int) -> str | None:
    if not busy or overlap in (Overlap.ALLOW, Overlap.QUEUE_ALL, Overlap.CANCEL_RUNNING):
        return None
    if overlap is Overlap.SKIP:
        return f"skipped: run {busy[0].id} still active (overlap skip)"
    if waiting >= 1:
        return f"skipped: run {busy[0].id} active and one already queued (overlap queue_one)"
    return None


_Chosen = tuple[RunRecord, MigrationSpec, MigrationRecord]


class _Round:
    """One tick's dispatch, from the runs queued before to the fires due now: the worker
    slots left, the pools' use, and (read once, when first needed) the runs holding
    workers by migration and the exclusions."""

    def __init__(
        self,
        slots: int,
        holding: Callable[[], tuple[dict[str, list[RunRecord]], dict[str, dict[str, str]]]],
    ) -> None:
        self.slots, self.open = slots, True
        self.pool_use: dict[str, int] = {}
        self._holding = holding
        self._held: tuple[dict[str, list[RunRecord]], dict[str, dict[str, str]]] | None = None

    def facts(
        self,
        busy: dict[str, list[RunRecord]],
        queued: dict[str, list[RunRecord]],
        fresh: Sequence[RunRecord] = (),
    ) -> _Facts:
        if self._held is None:
            self._held = self._holding()
        return _Facts(self._held[0], busy, queued, self._held[1], fresh)


class _Facts:
    """What dispatch knows about runs in progress, kept current as it starts more.
    ``fresh``: runs about to be inserted with them, that the store cannot show yet."""

    def __init__(
        self,
        working: dict[str, list[RunRecord]],
        busy: dict[str, list[RunRecord]],
        queued: dict[str, list[RunRecord]],
        excluded_by: dict[str, dict[str, str]],
        fresh: Sequence[RunRecord] = (),
    ) -> None:
        self.working, self.busy, self.queued, self.excluded_by = working, busy, queued, excluded_by
        self.running = {k: [r.id for r in v] for k, v in working.items()}
        self.fresh: dict[str, list[RunRecord]] = defaultdict(list)
        for run in fresh:
            self.fresh[run.migration_id].append(run)

    def latest(self, migration_id: str, run: RunRecord, store: EngineStore) -> RunRecord | None:
        """The dependency rule's run of ``migration_id`` for ``run``: its latest run whose
        nominal time is not after ``run``'s, the fresh ones included."""
        found = store.latest_run_at_or_before(migration_id, run.nominal_time)
        for other in self.fresh.get(migration_id, []):
            if other.nominal_time <= run.nominal_time and (
                found is None
                or (other.nominal_time, other.attempt) > (found.nominal_time, found.attempt)
            ):
                found = other
        return found

    def started(self, run: RunRecord) -> None:
        self.working[run.migration_id].append(run)
        self.busy[run.migration_id].append(run)
        self.running.setdefault(run.migration_id, []).append(run.id)
        self.queued[run.migration_id] = [
            r for r in self.queued.get(run.migration_id, []) if r.id != run.id
        ]
