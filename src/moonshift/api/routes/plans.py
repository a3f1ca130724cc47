"""A migration's stored plan, its mapping suggestions, approving or rejecting a run's plan,
and notes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import MigrationId, SuggestionId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["plans"])


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: int | None = Field(default=None, ge=1, description="The run, when several wait")
    note: str | None = Field(default=None, max_length=2000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: int | None = Field(default=None, ge=1, description="The run, when several wait")
    reason: str = Field(min_length=1, max_length=2000)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


@router.get("/plan")
def plan(migration_id: MigrationId, app: App, who: Reader) -> views.StoredPlan:
    """The stored plan for the current spec version (made and stored the first time): its
    version and SHA-256 digest, both schemas, the mappings, the DAG, and every problem."""
    return app.plans.plan(migration_id, actor=who.actor)


@router.post("/plan/refresh")
def refresh_plan(migration_id: MigrationId, app: App, who: Operator) -> views.StoredPlan:
    """Read both schemas again and store a new plan version; runs waiting for approval of
    a plan with another digest plan again."""
    return app.plans.plan(migration_id, actor=who.actor, refresh=True)


@router.get("/suggestions")
def suggestions(migration_id: MigrationId, app: App, who: Reader) -> views.Page[views.Suggestion]:
    """The current plan's mapping suggestions, tables first: source table or column, the
    target's likely counterpart, a score in [0, 1], whether to review it (below 0.8), the
    reasons and the best candidates."""
    return views.Page(items=app.suggestions.list(migration_id, actor=who.actor))


@router.post("/suggestions/{sid}/accept")
def accept_suggestion(
    migration_id: MigrationId, sid: SuggestionId, app: App, who: Operator
) -> views.Accepted:
    """Write the suggestion into the spec's mapping: a new spec version, so runs waiting
    for approval plan again. 404, changing nothing, for a suggestion the current plan does
    not hold (unknown, or made for an older spec version)."""
    return app.suggestions.accept(migration_id, sid, actor=who.actor)


@router.post("/approve")
def approve(
    migration_id: MigrationId, app: App, who: Operator, body: ApproveBody | None = None
) -> views.Decision:
    """Approve the plan of a run waiting for approval; 409 for the spec's author when
    `approval.not_the_author`, or a second approval by the same key."""
    body = body or ApproveBody()
    return app.plans.approve(migration_id, actor=who.actor, run_id=body.run, note=body.note)


@router.post("/reject")
def reject(migration_id: MigrationId, app: App, who: Operator, body: RejectBody) -> views.Decision:
    """Reject the plan of a run waiting for approval: the run is cancelled."""
    return app.plans.reject(migration_id, actor=who.actor, reason=body.reason, run_id=body.run)


@router.post("/notes", status_code=201)
def add_note(migration_id: MigrationId, app: App, who: Operator, body: NoteBody) -> views.Noted:
    """A note in the migration's history."""
    return app.plans.note(migration_id, body.text, actor=who.actor)
