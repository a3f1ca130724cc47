"""Copies: plan, control a running copy, the error queue, incremental sync and lag,
verification, rollback, progress and bottlenecks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.app.runs import Runs
from moonshift.connectors.base import Connector, connect
from moonshift.copy import describe
from moonshift.copy.bookkeeping import Bookkeeping
from moonshift.copy.lag import lag
from moonshift.copy.plan import CopyPlan, Planner
from moonshift.copy.retry import retry_row
from moonshift.copy.rollback import roll_back, snapshot_name
from moonshift.copy.verify import verify
from moonshift.domain import lifecycle
from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.copy_spec import Mode
from moonshift.domain.lifecycle import State
from moonshift.domain.notices import NOTABLE
from moonshift.domain.progress import Progress
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict, InvalidInput, NotFound, TerminalError
from moonshift.jobs.copy import analyse, connectors
from moonshift.runtime.runs import with_connections
from moonshift.store.records import RunRecord

SETTABLE = {"batch_size": (1, 10_000_000), "parallel": (1, 64)}
STRATEGIES = ("truncate", "point-in-time")
# The runbooks' spelling of the same strategies.
STRATEGY_ALIASES = {"point_in_time": "point-in-time"}
# The seed's advice for each bottleneck.
ADVICE = {
    "read": "source read: reduce parallel readers, check the source's load and its key index",
    "transform": "transformation: add workers (parallel) or simplify the column mappings",
    "write": "target write: increase batch_size, defer the target's indexes until after the load",
}


def plan_view(plan: CopyPlan) -> views.CopyPlan:
    found = describe.mappings(plan)
    return views.CopyPlan.model_validate(
        describe.with_rows(found, {t.source: t.rows for t in plan.tables})
    )


class Copies(Family):
    def __init__(self, ctx: Context, runs: Runs) -> None:
        super().__init__(ctx)
        self.runs = runs

    # -- planning ---------------------------------------------------------------------------

    def spec(self, migration_id: str) -> MigrationSpec:
        spec = self.ctx.spec_of(migration_id)
        if spec.kind != "copy":
            raise InvalidInput(None, f'"{migration_id}" is a {spec.kind} migration, not a copy')
        return spec

    def _sides(self, spec: MigrationSpec) -> tuple[Connector, Connector]:
        try:
            return connectors(with_connections(self.store, spec), self.ctx.environ)
        except TerminalError as exc:
            raise InvalidInput(None, str(exc)) from None

    def plan(self, migration_id: str) -> views.CopyPlan:
        """What a run would copy: per table every column's mapping and the objects it
        creates, and every problem it would refuse on with what resolves it; writes nothing."""
        return plan_view(self._planned(migration_id)[1])

    def _planned(self, migration_id: str) -> tuple[MigrationSpec, CopyPlan, Connector, Connector]:
        spec = self.spec(migration_id)
        source, target = self._connected(spec)
        return spec, Planner(spec.copy_spec, source, target).plan(), source, target

    def _connected(self, spec: MigrationSpec) -> tuple[Connector, Connector]:
        source, target = self._sides(spec)
        for side, connector in (("source", source), ("target", target)):
            connect(connector, side).close()
        return source, target

    def analyse(self, spec: MigrationSpec) -> dict[str, Any]:
        """Both schemas read and the copy planned: the parts of a stored plan
        (``copy.describe``). Unavailable when a side cannot be reached."""
        return analyse(spec, *self._connected(spec))[1]

    def _ready_plan(
        self, migration_id: str
    ) -> tuple[MigrationSpec, CopyPlan, Connector, Connector]:
        """The plan of a copy that could start; Conflict with its problems otherwise."""
        planned = self._planned(migration_id)
        if planned[1].errors:
            raise Conflict("; ".join(str(e) for e in planned[1].errors))
        return planned

    def verify(self, migration_id: str) -> list[views.TableCheck]:
        """Row counts and order-free checksums of every table, source beside target, values
        compared by the documented rules; what the latest copy did not finish."""
        spec, plan, source, target = self._ready_plan(migration_id)
        return [
            views.TableCheck(
                table=c.table,
                source_rows=c.source_rows,
                target_rows=c.target_rows,
                source_checksum=c.source_checksum,
                target_checksum=c.target_checksum,
                matches=c.matches,
                unfinished=list(c.unfinished),
            )
            for c in verify(plan, source, target, self._book(spec, target))
        ]

    # -- a running copy ----------------------------------------------------------------------

    def current_run(self, migration_id: str, states: frozenset[State] | None = None) -> RunRecord:
        wanted = states or lifecycle.ACTIVE
        self.spec(migration_id)
        run_id = self.store.active_run_of(migration_id, sorted(wanted))
        if run_id is None:
            what = "active" if states is None else " or ".join(sorted(s.value for s in wanted))
            raise Conflict(f'"{migration_id}" has no {what} run')
        return self.store.get_run(run_id)

    def pause(self, migration_id: str, *, actor: str, reason: str | None = None) -> views.Run:
        """The current batch finishes, its checkpoint commits, the run pauses until resumed."""
        run = self.current_run(migration_id, frozenset({State.RUNNING}))
        why = reason or f"paused by {actor}"
        request = ControlRequest(action=Action.PAUSE, reason=why, manual=True)
        return self._control(run, request, actor)

    def stop(
        self, migration_id: str, *, actor: str, immediate: bool = False, reason: str | None = None
    ) -> views.Run:
        """Stop at the next batch boundary, or ``immediate``: roll back the batch in flight.
        Either way the run keeps its checkpoint (paused), to resume or roll back."""
        run = self.current_run(migration_id, frozenset({State.RUNNING}))
        why = reason or f"stopped by {actor}" + (" (immediate)" if immediate else "")
        request = ControlRequest(action=Action.HALT, reason=why, immediate=immediate)
        return self._control(run, request, actor)

    def _control(self, run: RunRecord, request: ControlRequest, actor: str) -> views.Run:
        now = self.ctx.clock.now()
        record = self.store.update_run(run.id, now=now, control=request)
        self.store.record_event(
            now=now,
            migration_id=run.migration_id,
            event_type="control",
            outcome=request.action.value,
            run_id=run.id,
            reason=request.reason,
            payload={"actor": actor},
        )
        return views.Run.model_validate(record)

    def resume(self, migration_id: str, *, actor: str) -> views.Run:
        """Let a paused run go on: a daemon resumes it (or run it here with ``execute``)."""
        run = self.current_run(migration_id, frozenset({State.PAUSED}))
        now = self.ctx.clock.now()
        record = self.store.update_run(run.id, now=now, not_before=now, waiting_for=None)
        self.store.record_event(
            now=now,
            migration_id=migration_id,
            event_type="control",
            outcome="resume",
            run_id=run.id,
            reason=f"resumed by {actor}",
            payload={"actor": actor},
        )
        self.store.announce()
        return views.Run.model_validate(record)

    def configure(self, migration_id: str, settings: dict[str, str], *, actor: str) -> views.Run:
        """Change batch_size or parallel of the active run; it takes them at its next batch."""
        if not settings:
            raise InvalidInput(None, f"give a setting to change: {', '.join(SETTABLE)}")
        values = {}
        for name, text in settings.items():
            if name not in SETTABLE:
                raise InvalidInput(name, f"not a live setting; one of {', '.join(SETTABLE)}")
            low, high = SETTABLE[name]
            if not text.isdigit() or not low <= int(text) <= high:
                raise InvalidInput(name, f"must be a whole number from {low} to {high}")
            values[name] = int(text)
        run = self.current_run(migration_id)
        merged = {**(run.overrides or {}), **values}
        record = self.store.update_run(run.id, now=self.ctx.clock.now(), overrides=merged)
        self.store.record_event(
            now=self.ctx.clock.now(),
            migration_id=migration_id,
            event_type="config",
            outcome="changed",
            run_id=run.id,
            payload={**values, "actor": actor},
            reason=f"by {actor}: " + ", ".join(f"{k}={v}" for k, v in values.items()),
        )
        return views.Run.model_validate(record)

    # -- the error queue ------------------------------------------------------------------

    def errors(self, migration_id: str, *, status: str | None = "open") -> list[views.CopyError]:
        self.spec(migration_id)
        return [
            views.CopyError.model_validate(e)
            for e in self.store.copy_errors(migration_id, status=status)
        ]

    def error_page(
        self, migration_id: str, *, status: str | None, limit: int, after: int | None
    ) -> views.Page[views.CopyError]:
        """A page of the queue, oldest first; ``next`` is the ``after`` of the next page."""
        self.spec(migration_id)
        found = self.store.copy_errors(migration_id, status=status, limit=limit + 1, after=after)
        items = [views.CopyError.model_validate(e) for e in found[:limit]]
        more = len(found) > limit
        return views.Page[views.CopyError](items=items, next=str(items[-1].id) if more else None)

    def error(self, migration_id: str, error_id: int) -> views.CopyError:
        """One queued row of this migration (NotFound when it is another's)."""
        record = self.store.get_copy_error(error_id)
        if record.migration_id != migration_id:
            raise NotFound(f"no error {error_id} in the error queue of {migration_id}")
        return views.CopyError.model_validate(record)

    def skip_error(self, error_id: int, *, actor: str, reason: str) -> views.CopyError:
        if not reason.strip():
            raise InvalidInput("reason", "say why the row is skipped; it goes in the audit log")
        record = self.store.settle_copy_error(
            error_id, status="skipped", resolution=reason, actor=actor, now=self.ctx.clock.now()
        )
        return views.CopyError.model_validate(record)

    def retry_errors(
        self, migration_id: str | None, error_ids: list[int] | None, *, actor: str
    ) -> list[views.CopyError]:
        """Write queued rows again (read afresh from the source): the ``error_ids`` given,
        or every open one of ``migration_id``. Each either resolves or stays open with the
        target's new message."""
        if migration_id is None:
            if not error_ids:
                raise InvalidInput("error_ids", "give error ids, or a migration id")
            migration_id = self.store.get_copy_error(error_ids[0]).migration_id
        _spec, plan, source, target = self._ready_plan(migration_id)
        tables = {t.source: t for t in plan.tables}
        queued = self.store.copy_errors(migration_id, status="open")
        if error_ids is not None:
            wanted = set(error_ids)
            unknown = wanted - {e.id for e in queued}
            if unknown:
                raise InvalidInput("error_ids", f"no open error {min(unknown)} for {migration_id}")
            queued = [e for e in queued if e.id in wanted]
        results = []
        for error in queued:
            table = tables.get(error.table_name)
            message = (
                f"table {error.table_name} is no longer in the copy"
                if table is None
                else retry_row(table, source, target, error.row_key)
            )
            now = self.ctx.clock.now()
            results.append(
                self.store.settle_copy_error(
                    error.id,
                    status="open" if message else "resolved",
                    resolution=f"retried by {actor}" + (f": {message}" if message else ""),
                    actor=actor,
                    now=now,
                    message=message,
                )
            )
        return [views.CopyError.model_validate(r) for r in results]

    # -- incremental ----------------------------------------------------------------------

    def sync(
        self,
        migration_id: str,
        *,
        actor: str,
        require_daemon: bool = False,
        ignore_windows: bool = False,
    ) -> views.Run:
        """An incremental pass now (the cutover's final sync), a manual run as ``run_now``
        records it; ``require_daemon``: for a daemon to run (Unavailable when none runs)."""
        self._incremental(self.spec(migration_id))
        if require_daemon:
            self.ctx.require_daemon("run the pass")
        run = self.runs.run_now(migration_id, actor=actor, ignore_windows=ignore_windows)
        self.store.announce()
        return run

    def lag(self, migration_id: str) -> list[views.TableLag]:
        """How far an incremental target is behind: rows past the watermark, cursor
        distance."""
        spec, plan, source, target = self._ready_plan(migration_id)
        self._incremental(spec)
        return [
            views.TableLag(
                table=t.table,
                watermark=t.watermark,
                newest=t.newest,
                rows_behind=t.rows_behind,
                distance=str(t.distance) if t.distance is not None else None,
            )
            for t in lag(plan, source, target, self._book(spec, target))
        ]

    def _incremental(self, spec: MigrationSpec) -> None:
        if spec.copy_spec.mode is not Mode.INCREMENTAL:
            raise InvalidInput(None, f'"{spec.id}" is not incremental (copy.mode: incremental)')

    def _book(self, spec: MigrationSpec, target: Connector) -> Bookkeeping:
        return Bookkeeping(target, spec.copy_spec.bookkeeping_table, spec.id, 0)

    # -- rollback -------------------------------------------------------------------------

    def rollback(
        self,
        migration_id: str,
        *,
        strategy: str,
        actor: str,
        reason: str | None = None,
        restore_to: datetime | None = None,
    ) -> views.Rollback:
        """Undo a copy in the target, children first: ``truncate`` its tables, or restore
        them from the snapshot taken before the run (``point-in-time``; ``restore_to``, if
        given, must not be after that snapshot: it is the only saved state)."""
        strategy = STRATEGY_ALIASES.get(strategy, strategy)
        if strategy not in STRATEGIES:
            raise InvalidInput("strategy", f'one of {", ".join(STRATEGIES)}, got "{strategy}"')
        spec, plan, _source, target = self._ready_plan(migration_id)
        active = self.store.active_run_of(migration_id, [State.RUNNING])
        if active is not None:
            raise Conflict(f"run {active} is still running; stop it first")
        existing = set(target.read_schema().tables)
        snapshots = {t.target for t in plan.tables if snapshot_name(spec.id, t.target) in existing}
        if strategy == "point-in-time" and not snapshots:
            raise Conflict(
                f'"{migration_id}" has no saved target tables; point-in-time needs '
                "copy.snapshot: true before the run"
            )
        if restore_to is not None:
            self._check_restore_to(migration_id, strategy, restore_to)
        now = self.ctx.clock.now()
        record = self.store.start_rollback(
            migration_id, strategy, actor=actor, reason=reason, now=now
        )
        try:
            tables = roll_back(target, plan, self._book(spec, target), strategy, snapshots)
        except Exception as exc:
            self.store.end_rollback(
                record.id,
                state="failed",
                tables=[{"table": "-", "error": str(exc)}],
                now=self.ctx.clock.now(),
                actor=actor,
            )
            raise Conflict(f"rollback failed, nothing was changed: {exc}") from None
        done = self.store.end_rollback(
            record.id, state="completed", tables=tables, now=self.ctx.clock.now(), actor=actor
        )
        return views.Rollback.model_validate(done)

    def _check_restore_to(self, migration_id: str, strategy: str, restore_to: datetime) -> None:
        if strategy != "point-in-time":
            raise InvalidInput("restore_to", "only goes with the point-in-time strategy")
        if restore_to.tzinfo is None:
            raise InvalidInput("restore_to", "must carry its offset, like 2026-02-02T07:59:00Z")
        latest = self.store.list_runs(migration_id, limit=1)
        started = latest[0].started_at if latest else None
        if started is not None and restore_to > started:
            raise InvalidInput(
                "restore_to",
                f"the only saved state is the snapshot taken when run {latest[0].id} started "
                f"({started.isoformat()}); give a time at or before it",
            )

    def rollback_status(self, migration_id: str) -> list[views.Rollback]:
        self.spec(migration_id)
        return [views.Rollback.model_validate(r) for r in self.store.rollbacks(migration_id)]

    # -- progress -------------------------------------------------------------------------

    def latest_run(self, migration_id: str) -> views.Run:
        self.spec(migration_id)
        runs = self.store.list_runs(migration_id, limit=1)
        if not runs:
            raise Conflict(f'"{migration_id}" has not run yet')
        return views.Run.model_validate(runs[0])

    def status(self, migration_id: str) -> views.CopyStatus:
        """The latest run's state and, for a copy, its progress per table: rows, rate, time
        left; with the migration's latest notable events (pauses, resumes, a window ending,
        a skipped fire, the notice before a start)."""
        runs = self.store.list_runs(self.ctx.spec_of(migration_id).id, limit=1)
        if not runs:
            raise Conflict(f'"{migration_id}" has not run yet')
        recent = self.store.events_of(migration_id, kinds=NOTABLE, limit=10)
        return copy_status(views.Run.model_validate(runs[0])).model_copy(
            update={
                "events": [
                    views.RecentEvent(at=e.at, kind=e.kind, run_id=e.run_id, summary=e.summary)
                    for e in recent
                ]
            }
        )

    def bottleneck(self, migration_id: str) -> views.Bottleneck:
        run = self.latest_run(migration_id)
        return bottleneck(run.id, run.progress or Progress())


def copy_status(run: views.Run) -> views.CopyStatus:
    return views.CopyStatus(run=run.id, state=run.state, reason=run.reason, progress=run.progress)


def bottleneck(run_id: int, progress: Progress) -> views.Bottleneck:
    """Which stage took most of the batches' time, over every table."""
    totals = {"read": 0.0, "transform": 0.0, "write": 0.0}
    rows, elapsed = 0, 0.0
    for table in progress.tables.values():
        for stage in totals:
            totals[stage] += getattr(table.seconds, stage)
        rows += table.rows
        elapsed += table.elapsed
    spent = sum(totals.values())
    if spent <= 0:
        return views.Bottleneck(
            run=run_id,
            stage=None,
            shares=dict.fromkeys(totals, 0.0),
            rate=0.0,
            advice="no batch has been written yet",
        )
    shares = {stage: seconds / spent for stage, seconds in totals.items()}
    stage = max(shares, key=lambda s: shares[s])
    rate = rows / elapsed if elapsed else 0.0
    return views.Bottleneck(run=run_id, stage=stage, shares=shares, rate=rate, advice=ADVICE[stage])
