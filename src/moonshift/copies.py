"""Use cases of copy migrations: plan, control a running copy, the error queue, incremental
sync and lag, verification, rollback, progress and bottlenecks. The CLI, the API and Python
code call these; none of them holds a rule of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector
from moonshift.copy.bookkeeping import Bookkeeping
from moonshift.copy.lag import TableLag, lag
from moonshift.copy.plan import CopyPlan, Planner
from moonshift.copy.retry import retry_row
from moonshift.copy.rollback import roll_back, snapshot_name
from moonshift.copy.verify import TableCheck, verify
from moonshift.domain import lifecycle
from moonshift.domain.copy_spec import Mode
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import InputError, OperationFailedError
from moonshift.jobs.base import JobError
from moonshift.jobs.copy import connectors
from moonshift.service import Moonshift
from moonshift.store import RunRecord
from moonshift.store.listen import announce
from moonshift.store.records import CopyErrorRecord, RollbackRecord

SETTABLE = {"batch_size": (1, 10_000_000), "parallel": (1, 64)}
STRATEGIES = ("truncate", "point-in-time")
# The seed's advice for each bottleneck.
ADVICE = {
    "read": "source read: reduce parallel readers, check the source's load and its key index",
    "transform": "transformation: add workers (parallel) or simplify the column mappings",
    "write": "target write: increase batch_size, defer the target's indexes until after the load",
}


@dataclass(frozen=True)
class Bottleneck:
    stage: str | None  # read, transform, write; None before any batch
    shares: dict[str, float]  # share of the time per stage
    rate: float  # rows per second, all tables
    advice: str


class Copies:
    def __init__(self, app: Moonshift) -> None:
        self.app = app

    # -- planning ---------------------------------------------------------------------------

    def spec(self, migration_id: str) -> MigrationSpec:
        spec = self.app.spec_of(migration_id)
        if spec.kind != "copy":
            raise InputError(f'"{migration_id}" is a {spec.kind} migration, not a copy')
        return spec

    def _sides(self, spec: MigrationSpec) -> tuple[Connector, Connector]:
        try:
            return connectors(spec, self.app.environ)
        except JobError as exc:
            raise InputError(str(exc)) from None

    def plan(self, migration_id: str) -> CopyPlan:
        """What a run would copy, and every problem it would refuse on; writes nothing."""
        return self._planned(migration_id)[1]

    def _planned(self, migration_id: str) -> tuple[MigrationSpec, CopyPlan, Connector, Connector]:
        spec = self.spec(migration_id)
        source, target = self._sides(spec)
        return spec, Planner(spec.copy_spec, source, target).plan(), source, target

    def _ready_plan(
        self, migration_id: str
    ) -> tuple[MigrationSpec, CopyPlan, Connector, Connector]:
        """The plan of a copy that could start; refused with its problems otherwise."""
        planned = self._planned(migration_id)
        if planned[1].errors:
            raise OperationFailedError("; ".join(str(e) for e in planned[1].errors))
        return planned

    def verify(self, migration_id: str) -> list[TableCheck]:
        """Row counts and order-free checksums of every table, source beside target."""
        spec, plan, source, target = self._ready_plan(migration_id)
        return verify(plan, source, target, self._book(spec, target))

    # -- a running copy ----------------------------------------------------------------------

    def current_run(self, migration_id: str, states: frozenset[State] | None = None) -> RunRecord:
        wanted = states or lifecycle.ACTIVE
        self.spec(migration_id)
        run_id = self.app.store.active_run_of(migration_id, [s.value for s in wanted])
        if run_id is None:
            what = "active" if states is None else " or ".join(sorted(s.value for s in wanted))
            raise OperationFailedError(f'"{migration_id}" has no {what} run')
        return self.app.store.get_run(run_id)

    def pause(self, migration_id: str, *, actor: str, reason: str | None = None) -> RunRecord:
        """The current batch finishes, its checkpoint commits, the run pauses until resumed."""
        run = self.current_run(migration_id, frozenset({State.RUNNING}))
        return self._control(run, "pause", reason or f"paused by {actor}", actor, manual=True)

    def stop(
        self, migration_id: str, *, actor: str, immediate: bool = False, reason: str | None = None
    ) -> RunRecord:
        """Stop at the next batch boundary, or ``immediate``: roll back the batch in flight.
        Either way the run keeps its checkpoint (paused), to resume or roll back."""
        run = self.current_run(migration_id, frozenset({State.RUNNING}))
        why = reason or f"stopped by {actor}" + (" (immediate)" if immediate else "")
        return self._control(run, "halt", why, actor, immediate=immediate)

    def _control(
        self, run: RunRecord, action: str, reason: str, actor: str, **extra: Any
    ) -> RunRecord:
        control = {"action": action, "reason": reason, **extra}
        record = self.app.store.update_run(run.id, now=self.app.clock.now(), control=control)
        self.app.store.record_event(
            now=self.app.clock.now(),
            migration_id=run.migration_id,
            event_type="control",
            outcome=action,
            run_id=run.id,
            reason=reason,
            payload={"actor": actor},
        )
        return record

    def resume(self, migration_id: str, *, actor: str) -> RunRecord:
        """Let a paused run go on: a daemon resumes it (or run it here with ``execute``)."""
        run = self.current_run(migration_id, frozenset({State.PAUSED}))
        now = self.app.clock.now()
        record = self.app.store.update_run(run.id, now=now, not_before=now, waiting_for=None)
        self.app.store.record_event(
            now=now,
            migration_id=migration_id,
            event_type="control",
            outcome="resume",
            run_id=run.id,
            reason=f"resumed by {actor}",
            payload={"actor": actor},
        )
        announce(self.app.store.engine)
        return record

    def configure(self, migration_id: str, settings: dict[str, str], *, actor: str) -> RunRecord:
        """Change batch_size or parallel of the active run; it takes them at its next batch."""
        values = {}
        for name, text in settings.items():
            if name not in SETTABLE:
                raise InputError(f"--set {name}: not a live setting; one of {', '.join(SETTABLE)}")
            low, high = SETTABLE[name]
            if not text.isdigit() or not low <= int(text) <= high:
                raise InputError(f"--set {name}: must be a whole number from {low} to {high}")
            values[name] = int(text)
        run = self.current_run(migration_id)
        merged = {**(run.overrides or {}), **values}
        record = self.app.store.update_run(run.id, now=self.app.clock.now(), overrides=merged)
        self.app.store.record_event(
            now=self.app.clock.now(),
            migration_id=migration_id,
            event_type="config",
            outcome="changed",
            run_id=run.id,
            payload={**values, "actor": actor},
            reason=f"by {actor}: " + ", ".join(f"{k}={v}" for k, v in values.items()),
        )
        return record

    # -- the error queue ------------------------------------------------------------------

    def errors(self, migration_id: str, *, status: str | None = "open") -> list[CopyErrorRecord]:
        self.spec(migration_id)
        return self.app.store.copy_errors(migration_id, status=status)

    def skip_error(self, error_id: int, *, actor: str, reason: str) -> CopyErrorRecord:
        if not reason.strip():
            raise InputError("--reason: say why the row is skipped; it goes in the audit log")
        return self.app.store.settle_copy_error(
            error_id, status="skipped", resolution=reason, actor=actor, now=self.app.clock.now()
        )

    def retry_errors(
        self, migration_id: str, error_ids: list[int] | None, *, actor: str
    ) -> list[CopyErrorRecord]:
        """Write queued rows again (read afresh from the source); each either resolves or
        stays open with the target's new message."""
        _spec, plan, source, target = self._ready_plan(migration_id)
        tables = {t.source: t for t in plan.tables}
        queued = self.app.store.copy_errors(migration_id, status="open")
        if error_ids is not None:
            wanted = set(error_ids)
            unknown = wanted - {e.id for e in queued}
            if unknown:
                raise InputError(f"no open error {min(unknown)} for {migration_id}")
            queued = [e for e in queued if e.id in wanted]
        results = []
        for error in queued:
            table = tables.get(error.table_name)
            message = (
                f"table {error.table_name} is no longer in the copy"
                if table is None
                else retry_row(table, source, target, error.row_key)
            )
            now = self.app.clock.now()
            results.append(
                self.app.store.settle_copy_error(
                    error.id,
                    status="open" if message else "resolved",
                    resolution=f"retried by {actor}" + (f": {message}" if message else ""),
                    actor=actor,
                    now=now,
                    message=message,
                )
            )
        return results

    # -- incremental ----------------------------------------------------------------------

    def sync(self, migration_id: str, *, actor: str) -> RunRecord:
        """An incremental pass now (the cutover's final sync)."""
        spec = self.spec(migration_id)
        if spec.copy_spec.mode is not Mode.INCREMENTAL:
            raise InputError(f'"{migration_id}" is not incremental (copy.mode: incremental)')
        return self.app.run_now(migration_id, actor=actor)

    def lag(self, migration_id: str) -> list[TableLag]:
        spec, plan, source, target = self._ready_plan(migration_id)
        if spec.copy_spec.mode is not Mode.INCREMENTAL:
            raise InputError(f'"{migration_id}" is not incremental (copy.mode: incremental)')
        return lag(plan, source, target, self._book(spec, target))

    def _book(self, spec: MigrationSpec, target: Connector) -> Bookkeeping:
        return Bookkeeping(target, spec.copy_spec.bookkeeping_table, spec.id, 0)

    # -- rollback -------------------------------------------------------------------------

    def rollback(
        self, migration_id: str, *, strategy: str, actor: str, reason: str | None = None
    ) -> RollbackRecord:
        if strategy not in STRATEGIES:
            raise InputError(f'--strategy: one of {", ".join(STRATEGIES)}, got "{strategy}"')
        spec, plan, _source, target = self._ready_plan(migration_id)
        active = self.app.store.active_run_of(migration_id, [State.RUNNING.value])
        if active is not None:
            raise OperationFailedError(
                f"run {active} is still running; stop it first: moonshift stop {migration_id}"
            )
        existing = set(target.read_schema().tables)
        snapshots = {t.target for t in plan.tables if snapshot_name(spec.id, t.target) in existing}
        if strategy == "point-in-time" and not snapshots:
            raise OperationFailedError(
                f'"{migration_id}" has no saved target tables; point-in-time needs '
                "copy.snapshot: true before the run"
            )
        now = self.app.clock.now()
        record = self.app.store.start_rollback(
            migration_id, strategy, actor=actor, reason=reason, now=now
        )
        try:
            tables = roll_back(target, plan, self._book(spec, target), strategy, snapshots)
        except Exception as exc:
            self.app.store.end_rollback(
                record.id,
                state="failed",
                tables=[{"table": "-", "error": str(exc)}],
                now=self.app.clock.now(),
                actor=actor,
            )
            raise OperationFailedError(f"rollback failed, nothing was changed: {exc}") from None
        return self.app.store.end_rollback(
            record.id, state="completed", tables=tables, now=self.app.clock.now(), actor=actor
        )

    def rollback_status(self, migration_id: str) -> list[RollbackRecord]:
        self.spec(migration_id)
        return self.app.store.rollbacks(migration_id)

    # -- progress -------------------------------------------------------------------------

    def latest_run(self, migration_id: str) -> RunRecord:
        self.spec(migration_id)
        runs = self.app.store.list_runs(migration_id, limit=1)
        if not runs:
            raise OperationFailedError(f'"{migration_id}" has not run yet')
        return runs[0]

    def bottleneck(self, migration_id: str) -> tuple[RunRecord, Bottleneck]:
        run = self.latest_run(migration_id)
        return run, bottleneck(run.progress or {})


def bottleneck(progress: dict[str, Any]) -> Bottleneck:
    """Which stage took most of the batches' time, over every table."""
    totals = {"read": 0.0, "transform": 0.0, "write": 0.0}
    rows, elapsed = 0, 0.0
    for table in (progress.get("tables") or {}).values():
        for stage in totals:
            totals[stage] += float(table.get("seconds", {}).get(stage, 0.0))
        rows += int(table.get("rows", 0))
        elapsed += float(table.get("elapsed", 0.0))
    spent = sum(totals.values())
    if spent <= 0:
        return Bottleneck(None, dict.fromkeys(totals, 0.0), 0.0, "no batch has been written yet")
    shares = {stage: seconds / spent for stage, seconds in totals.items()}
    stage = max(shares, key=lambda s: shares[s])
    return Bottleneck(stage, shares, rows / elapsed if elapsed else 0.0, ADVICE[stage])
