"""Validation: prove a copied migration went right (``validation/``: structural,
row-level, referential), and read what earlier validations found."""

from __future__ import annotations

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain import lifecycle
from moonshift.errors import Conflict, InvalidInput, NotFound
from moonshift.runtime.runs import RunContext
from moonshift.runtime.validating import validate_copy
from moonshift.store.records import DivergenceRecord, RunRecord, ValidationRecord


class Validations(Family):
    def run(self, migration_id: str, *, actor: str) -> views.ValidationReport:
        """Validate the copy now. Its latest run, when completed, moves to validating and
        ends certified or failed; a run that ended already stays as it is. Conflict while
        a run is under way; Unavailable when a database cannot be reached (nothing is
        recorded then)."""
        spec = self.ctx.spec_of(migration_id)
        if spec.kind != "copy":
            raise InvalidInput(None, f'"{migration_id}" is a {spec.kind} migration, not a copy')
        run = self._latest(migration_id)
        if run is not None and run.state in lifecycle.ACTIVE:
            raise Conflict(f"run {run.id} of {migration_id} is {run.state.value}; wait for it")
        ctx = RunContext(
            self.store, self.ctx.settings.home, self.ctx.clock, self.ctx.environ, actor
        )
        done = validate_copy(ctx, spec, run)
        return self._view(done.validation, done.run or run)

    def latest(self, migration_id: str) -> views.ValidationReport:
        """The newest validation of a migration (NotFound before the first)."""
        self.ctx.spec_of(migration_id)
        found = self.store.validations(migration_id, limit=1)
        if not found:
            raise NotFound(f'"{migration_id}" has not been validated yet')
        record = found[0]
        run = self.store.get_run(record.run_id) if record.run_id is not None else None
        return self._view(record, run)

    def divergences(
        self, migration_id: str, *, limit: int = 100, after: int | None = None
    ) -> views.Page[views.Divergence]:
        """A page of the newest validation's divergences; ``next`` is the next ``after``."""
        validation = self.latest(migration_id)
        found = self.store.divergences(validation.id, limit=limit + 1, after=after)
        items = [_divergence(d) for d in found[:limit]]
        more = len(found) > limit
        return views.Page[views.Divergence](items=items, next=str(items[-1].id) if more else None)

    def _latest(self, migration_id: str) -> RunRecord | None:
        runs = self.store.list_runs(migration_id, limit=1)
        return runs[0] if runs else None

    def _view(self, record: ValidationRecord, run: RunRecord | None) -> views.ValidationReport:
        return views.ValidationReport(
            id=record.id,
            migration_id=record.migration_id,
            run_id=record.run_id,
            run_state=run.state if run is not None else None,
            state=record.state,
            passed=record.state == "passed",
            summary=record.summary,
            results=[views.Perspective.model_validate(r) for r in record.results],
            created_by=record.created_by,
            started_at=record.started_at,
            ended_at=record.ended_at,
        )


def _divergence(record: DivergenceRecord) -> views.Divergence:
    return views.Divergence(
        id=record.id,
        perspective=record.perspective,
        table=record.table_name,
        kind=record.kind,
        what=record.what,
        **record.detail,
    )
