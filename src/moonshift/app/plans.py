"""Plans and approvals: the stored plan of a migration or a run, its digest, approving or
rejecting it, notes, and what a change of spec does to runs waiting for approval.

For other families: ``Plans.of_run`` and ``Plans.approvals`` give what a certificate
names (the plan, its digest, who approved it and when).
"""

from __future__ import annotations

import builtins
from typing import Any

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.app.copies import Copies
from moonshift.copy.describe import with_rows
from moonshift.domain import approval as rules
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict, InvalidInput, NotFound
from moonshift.jobs.registry import kind_of
from moonshift.runtime.plans import record_plan, worst
from moonshift.store.planning import APPROVED, REJECTED
from moonshift.store.records import PlanRecord, RunRecord

# Runs whose plan is fixed once approved: a later spec version is for later runs.
LOCKED = frozenset({State.APPROVED, State.RUNNING, State.PAUSED})


class Plans(Family):
    def __init__(self, ctx: Context, copies: Copies) -> None:
        super().__init__(ctx)
        self.copies = copies

    # -- the stored plan ------------------------------------------------------------------

    def plan(self, migration_id: str, *, actor: str, refresh: bool = False) -> views.StoredPlan:
        """The migration's latest stored plan for its current spec version; made and stored
        when there is none, or with ``refresh`` (both schemas read again). A refreshed plan
        whose digest differs voids the approvals of runs waiting for approval."""
        record = self.store.get_migration(migration_id)
        latest = self.store.latest_plan(migration_id)
        if not refresh and latest is not None and latest.spec_version == record.version:
            return self._view(latest)
        spec = MigrationSpec.model_validate(record.spec)
        parts = (
            self.copies.analyse(spec)
            if spec.kind == "copy"
            else kind_of(spec.kind).plan_parts(spec)
        )
        plan = record_plan(
            self.store,
            spec,
            record.version,
            parts,
            run_id=None,
            actor=actor,
            now=self.ctx.clock.now(),
        )
        notes = self._void_stale(migration_id, plan, actor)
        self.store.announce()
        return self._view(plan, notes=notes)

    def of_run(self, run_id: int) -> views.StoredPlan:
        """The plan a run was planned (and approved) with; NotFound before it is planned."""
        run = self.store.get_run(run_id)
        plan = self.store.run_plan(run_id)
        if plan is None:
            raise NotFound(f"run {run_id} has no plan yet (it is {run.state.value})")
        return self._view(plan)

    def approvals(self, run_id: int) -> builtins.list[views.Approval]:
        """Every approval and rejection of a run, oldest first, void ones too."""
        self.store.get_run(run_id)
        return [views.Approval.model_validate(a) for a in self.store.approvals(run_id=run_id)]

    def _view(self, plan: PlanRecord, notes: builtins.list[str] | None = None) -> views.StoredPlan:
        content = plan.content
        mapped = with_rows(content.get("mappings") or _NO_MAPPINGS, content.get("rows") or {})
        approvals: builtins.list[views.Approval] = []
        needed = 0
        if plan.run_id is not None:
            run = self.store.get_run(plan.run_id)
            needed = MigrationSpec.model_validate(plan.spec).approvals_needed(
                run.trigger.value, worst(plan)
            )
            approvals = self.approvals(plan.run_id)
        return views.StoredPlan.model_validate(
            {
                **mapped,
                "migration_id": plan.migration_id,
                "version": plan.version,
                "digest": plan.digest,
                "spec_version": plan.spec_version,
                "run_id": plan.run_id,
                "author": plan.author,
                "created_by": plan.created_by,
                "created_at": plan.created_at,
                "schemas": content.get("schema") or {},
                "dag": content.get("dag") or {},
                "unavailable": content.get("unavailable"),
                "approvals_needed": needed,
                "risks": content.get("risks") or [],
                "suggestions": content.get("suggestions") or [],
                "profile": content.get("profile") or {},
                "estimate": content.get("estimate"),
                "forecast": content.get("forecast"),
                "approvals": approvals,
                "notes": notes or [],
            }
        )

    def _void_stale(self, migration_id: str, plan: PlanRecord, actor: str) -> builtins.list[str]:
        """Runs waiting for approval of another digest plan again."""
        notes = []
        for run in waiting(self.ctx, migration_id):
            planned = self.store.run_plan(run.id)
            if planned is not None and planned.digest != plan.digest:
                notes.append(replan(self.ctx, run, f"plan {plan.digest[:12]} differs", actor))
        return notes

    # -- approval -------------------------------------------------------------------------

    def approve(
        self, migration_id: str, *, actor: str, run_id: int | None = None, note: str | None = None
    ) -> views.Decision:
        """Approve the plan of a run waiting for approval (the migration's only one, or
        ``run_id``). Enough approvals of its digest approve the run; Conflict for the
        author when the spec says not_the_author, or for a second approval by the same."""
        run, plan, spec = self._awaiting(migration_id, run_id)
        required = spec.approvals_needed(run.trigger.value, worst(plan))
        approved_by = [
            a.actor
            for a in self.store.approvals(run_id=run.id)
            if a.decision == APPROVED and a.digest == plan.digest and a.void_at is None
        ]
        rules.check_approver(
            actor, author=plan.author, policy=spec.approval, approved_by=approved_by
        )
        return self._decide(run, plan, actor, APPROVED, note, max(required, 1))

    def reject(
        self, migration_id: str, *, actor: str, reason: str, run_id: int | None = None
    ) -> views.Decision:
        """Reject the plan of a run waiting for approval: the run is cancelled."""
        if not reason.strip():
            raise InvalidInput("reason", "say why the plan is rejected")
        run, plan, spec = self._awaiting(migration_id, run_id)
        required = spec.approvals_needed(run.trigger.value, worst(plan))
        return self._decide(run, plan, actor, REJECTED, reason, required)

    def _decide(
        self,
        run: RunRecord,
        plan: PlanRecord,
        actor: str,
        decision: str,
        note: str | None,
        required: int,
    ) -> views.Decision:
        after, approved_by = self.store.decide(
            plan,
            run.id,
            actor=actor,
            decision=decision,
            note=note,
            required=required,
            now=self.ctx.clock.now(),
        )
        self.store.announce()
        return views.Decision(
            run=views.Run.model_validate(after),
            decision=decision,
            digest=plan.digest,
            approved_by=approved_by,
            required=required,
        )

    def _awaiting(
        self, migration_id: str, run_id: int | None
    ) -> tuple[RunRecord, PlanRecord, MigrationSpec]:
        self.store.get_migration(migration_id)
        if run_id is not None:
            run = self.store.get_run(run_id)
            if run.migration_id != migration_id:
                raise NotFound(f'run {run_id} is not a run of "{migration_id}"')
        else:
            waiting_runs = waiting(self.ctx, migration_id)
            if len(waiting_runs) > 1:
                ids = ", ".join(str(r.id) for r in waiting_runs)
                raise InvalidInput("run", f"runs {ids} await approval: name one")
            if not waiting_runs:
                raise Conflict(f'no run of "{migration_id}" awaits approval')
            run = waiting_runs[0]
        if run.state is not State.AWAITING_APPROVAL:
            raise Conflict(f"run {run.id} is {run.state.value}, not awaiting approval")
        plan = self.store.run_plan(run.id)
        if plan is None:
            raise Conflict(f"run {run.id} has no plan to approve")
        return run, plan, MigrationSpec.model_validate(plan.spec)

    # -- notes ----------------------------------------------------------------------------

    def note(self, migration_id: str, text: str, *, actor: str) -> views.Noted:
        """A note in the migration's history (the runbooks' "add note")."""
        if not text.strip():
            raise InvalidInput("text", "must not be empty")
        now = self.ctx.clock.now()
        self.store.add_note(migration_id, text, actor=actor, now=now)
        return views.Noted(migration_id=migration_id, actor=actor, text=text, at=now)


def spec_changed(ctx: Context, migration_id: str, version: int, actor: str) -> list[str]:
    """After a new spec version: runs waiting for approval plan again (their approvals are
    void); approved runs keep the version they were approved with. Says so, per run."""
    notes = []
    for run in ctx.store.active_runs([migration_id]):
        if run.state is State.AWAITING_APPROVAL:
            notes.append(replan(ctx, run, f"the spec changed to version {version}", actor))
        elif run.state in LOCKED and (plan := ctx.store.run_plan(run.id)) is not None:
            notes.append(
                f"run {run.id} keeps spec version {plan.spec_version}, which it was approved "
                f"with; later runs get version {version}"
            )
    return notes


def replan(ctx: Context, run: RunRecord, why: str, actor: str) -> str:
    ctx.store.replan_run(
        run.id,
        reason=f"{why}: the approvals are void, planning again",
        actor=actor,
        now=ctx.clock.now(),
    )
    return f"run {run.id}: {why}; its approvals are void and it plans again"


def waiting(ctx: Context, migration_id: str) -> list[RunRecord]:
    return [r for r in ctx.store.active_runs([migration_id]) if r.state is State.AWAITING_APPROVAL]


_NO_MAPPINGS: dict[str, Any] = {
    "tables": [],
    "types": [],
    "errors": [],
    "warnings": [],
    "problems": [],
}
