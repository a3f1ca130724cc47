"""Storing a plan: its content, its digest, and which spec a run follows once planned.

The worker stores a run's plan in its planning state; an operator's ``plan`` stores one on
demand. Both go through ``record_plan``, so a plan's content and digest are made one way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moonshift.domain.lifecycle import State
from moonshift.domain.plans import digest
from moonshift.domain.spec import MigrationSpec
from moonshift.seams import WorkerStore
from moonshift.store.records import PlanRecord, RunRecord

# A run in these states follows the migration's current spec; after them, its plan's.
BEFORE_PLAN = frozenset({State.CREATED, State.ANALYZING, State.PLANNING})


def plan_content(spec: MigrationSpec, parts: dict[str, Any]) -> dict[str, Any]:
    """A plan's content: the spec it was made from, what the job found and will do, and the
    migrations it runs after."""
    dag = {
        **parts.get("dag", {}),
        "after": sorted([d.migration, d.condition.value] for d in spec.depends_on),
    }
    return {"spec": spec.canonical(), **parts, "dag": dag}


def record_plan(
    store: WorkerStore,
    spec: MigrationSpec,
    spec_version: int,
    parts: dict[str, Any],
    *,
    run_id: int | None,
    actor: str,
    now: datetime,
) -> PlanRecord:
    """Store a plan of ``spec`` (as written: connections by name, ``${ENV}`` unresolved)."""
    content = plan_content(spec, parts)
    return store.add_plan(
        spec.id,
        run_id=run_id,
        spec_version=spec_version,
        spec=spec.canonical(),
        digest=digest(content),
        content=content,
        actor=actor,
        now=now,
    )


def planned_spec(store: WorkerStore, run: RunRecord) -> MigrationSpec | None:
    """The spec a planned run follows (an approved run keeps it whatever is applied after);
    None before it is planned."""
    if run.state in BEFORE_PLAN:
        return None
    plan = store.run_plan(run.id)
    return MigrationSpec.model_validate(plan.spec) if plan else None
