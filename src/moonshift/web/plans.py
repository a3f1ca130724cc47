"""Plan review: the plan a run waits for approval with (or the migration's current plan):
its mappings column by column, its problems, the rows to copy, its mapping suggestions
(accept one); approve with a note or reject with a reason; plan again. And notes in a
migration's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from moonshift.app import views
from moonshift.domain.lifecycle import State
from moonshift.web.rendering import PageRoute, act, page
from moonshift.web.session import App, Operating, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
Note = Annotated[str, Form(max_length=2000)]


@router.get("/migrations/{migration_id}/plan")
def plan(request: Request, migration_id: str, app: App, who: Reading) -> Response:
    waiting = [
        r for r in app.runs.list(migration_id, limit=50) if r.state is State.AWAITING_APPROVAL
    ]
    shown = (
        app.plans.of_run(waiting[0].id)
        if waiting
        else app.plans.plan(migration_id, actor=who.actor)
    )
    return page(
        request,
        "plan.html",
        who,
        m=app.migrations.get(migration_id),
        plan=shown,
        waiting=waiting,
        rows=sum(t.rows for t in shown.tables),
        decided=_decided(shown.approvals),
    )


def _decided(approvals: list[views.Approval]) -> list[views.Approval]:
    return sorted(approvals, key=lambda a: a.at, reverse=True)


def _back(migration_id: str) -> str:
    return f"/migrations/{migration_id}/plan"


@router.post("/migrations/{migration_id}/approve")
def approve(
    migration_id: str, app: App, who: Operating, run: Annotated[int, Form()], note: Note = ""
) -> Response:
    def do() -> str:
        decided = app.plans.approve(
            migration_id, actor=who.actor, run_id=run, note=note.strip() or None
        )
        return (
            f"run {run}: approved ({len(decided.approved_by)} of {decided.required}); "
            f"it is {decided.run.state.value}"
        )

    return act(_back(migration_id), do)


@router.post("/migrations/{migration_id}/reject")
def reject(
    migration_id: str, app: App, who: Operating, run: Annotated[int, Form()], reason: Note = ""
) -> Response:
    def do() -> str:
        decided = app.plans.reject(migration_id, actor=who.actor, reason=reason, run_id=run)
        return f"run {run}: rejected; it is {decided.run.state.value}"

    return act(_back(migration_id), do)


@router.post("/migrations/{migration_id}/plan/refresh")
def refresh(migration_id: str, app: App, who: Operating) -> Response:
    def do() -> str:
        found = app.plans.plan(migration_id, actor=who.actor, refresh=True)
        return "; ".join([f"plan {found.version} ({found.digest[:12]}) stored", *found.notes])

    return act(_back(migration_id), do)


@router.post("/migrations/{migration_id}/suggestions/{sid}/accept")
def accept(migration_id: str, sid: str, app: App, who: Operating) -> Response:
    def do() -> str:
        found = app.suggestions.accept(migration_id, sid, actor=who.actor)
        s = found.suggestion
        said = f"accepted {s.sid}: {s.source} -> {s.target}; spec version {found.applied.version}"
        return "; ".join([said, *found.applied.notes])

    return act(_back(migration_id), do)


@router.post("/migrations/{migration_id}/notes")
def note(
    migration_id: str, app: App, who: Operating, text: Annotated[str, Form(max_length=4000)] = ""
) -> Response:
    return act(
        f"/migrations/{migration_id}",
        lambda: f"note added by {app.plans.note(migration_id, text, actor=who.actor).actor}",
    )
