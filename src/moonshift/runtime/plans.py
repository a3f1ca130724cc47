"""Storing a plan: its content, its digest, and which spec a run follows once planned.

The worker stores a run's plan in its planning state; an operator's ``plan`` stores one on
demand. Both go through ``record_plan``, so a plan's content and digest are made one way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from moonshift.domain.durations import format_duration
from moonshift.domain.forecast import forecast, longest_window
from moonshift.domain.lifecycle import State
from moonshift.domain.plans import digest
from moonshift.domain.risk import Finding, Severity, assess
from moonshift.domain.spec import MigrationSpec
from moonshift.seams import WorkerStore
from moonshift.store.records import PlanRecord, RunRecord

# A run in these states follows the migration's current spec; after them, its plan's.
BEFORE_PLAN = frozenset({State.CREATED, State.ANALYZING, State.PLANNING})


def plan_content(
    spec: MigrationSpec,
    parts: dict[str, Any],
    facts: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A plan's content: the spec it was made from, what the job found and will do, the
    migrations it runs after, the window forecast from ``now``, and the risk findings
    (``facts``: what the planner knows beside the job's own ``risk_facts``)."""
    found = {k: v for k, v in parts.items() if k != "risk_facts"}
    dag = {
        **parts.get("dag", {}),
        "after": sorted([d.migration, d.condition.value] for d in spec.depends_on),
    }
    facts = {**parts.get("risk_facts", {}), **(facts or {})}
    estimate = parts.get("estimate")
    if estimate is not None and now is not None:
        found["forecast"] = _forecast(spec, estimate, now)
        facts["too_large"] = _too_large(spec, estimate, now)
    risks = assess(facts, spec.risk)
    return {"spec": spec.canonical(), **found, "dag": dag, "risks": [r.stored() for r in risks]}


def _forecast(spec: MigrationSpec, estimate: dict[str, Any], now: datetime) -> dict[str, Any]:
    duration = timedelta(seconds=float(estimate.get("seconds") or 0))
    found = forecast(duration, now, spec.window_set(), spec.timezone)
    if found is None:
        return {"text": "its windows do not open again: it cannot finish"}
    return {
        "windows": found.windows,
        "starts_at": found.starts_at.isoformat(),
        "finishes_at": found.finishes_at.isoformat(),
        "text": found.text,
    }


def _too_large(spec: MigrationSpec, estimate: dict[str, Any], now: datetime) -> list[list[str]]:
    windows = spec.window_set()
    longest = longest_window(windows, now) if windows else None
    if longest is None:
        return []
    return [
        [
            t["table"],
            format_duration(timedelta(seconds=round(t["seconds"]))),
            format_duration(longest),
        ]
        for t in estimate.get("tables", [])
        if t.get("seconds", 0) > longest.total_seconds()
    ]


def schedule_facts(store: WorkerStore, spec: MigrationSpec) -> dict[str, Any]:
    """Dependencies whose next scheduled run is not before this migration's."""
    own = store.get_schedule(spec.id)
    mine = own.next_fire_at if own else None
    late = []
    for dep in spec.depends_on if mine is not None else ():
        theirs = store.get_schedule(dep.migration)
        when = theirs.next_fire_at if theirs else None
        if when is None:
            late.append([dep.migration, "which has no next scheduled run"])
        elif mine is not None and when > mine:
            late.append(
                [
                    dep.migration,
                    f"whose next run ({when.isoformat()}) is after this one's ({mine.isoformat()})",
                ]
            )
    return {"dependencies_late": late}


def risks_of(plan: PlanRecord) -> list[Finding]:
    return [
        Finding(r["rule"], Severity(r["severity"]), r["subject"], r["message"], r["remediation"])
        for r in plan.content.get("risks", [])
    ]


def worst(plan: PlanRecord) -> Severity | None:
    found = risks_of(plan)
    return found[0].severity if found else None  # most severe first


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
    content = plan_content(spec, parts, schedule_facts(store, spec), now)
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
