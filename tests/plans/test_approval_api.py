"""The plan, approval and notes over HTTP, against a real `moonshift serve`."""

from __future__ import annotations

from pathlib import Path

from moonshift.app import Moonshift, Settings
from moonshift.domain.spec import MigrationSpec
from tests.api.server import running

GUARDED = {
    "id": "guarded",
    "kind": "steps",
    "steps": {"count": 1, "every": "0.01s"},
    "approval": {"required": True, "not_the_author": True},
}


def test_plan_approve_reject_and_notes_over_http(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client() as admin, server.client("operate") as ops:
        assert admin.post("/v1/migrations", json={"migrations": [GUARDED]}).status_code == 201
        plan = admin.get("/v1/migrations/guarded/plan").json()
        assert len(plan["digest"]) == 64 and plan["run_id"] is None and plan["version"] == 1
        refreshed = ops.post("/v1/migrations/guarded/plan/refresh").json()
        assert (refreshed["version"], refreshed["digest"]) == (2, plan["digest"])
        assert ops.post("/v1/migrations/guarded/approve").status_code == 409  # none waits
        app = Moonshift(Settings(state_url=server.state_url, home=tmp_path / "home"), environ={})
        try:
            run = app.runs.execute(app.runs.run_now("guarded", actor="user:test").id)
        finally:
            app.close()
        assert run.state.value == "awaiting_approval"
        own = admin.post("/v1/migrations/guarded/approve", json={"note": "mine"})
        assert own.status_code == 409 and "not_the_author" in own.json()["detail"]
        bad = ops.post("/v1/migrations/guarded/reject", json={"reason": ""})
        assert bad.status_code == 422
        approved = ops.post("/v1/migrations/guarded/approve", json={"run": run.id, "note": "ok"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["run"]["state"] == "approved"
        assert approved.json()["approved_by"] == ["api:operate"]
        noted = ops.post("/v1/migrations/guarded/notes", json={"text": "checked with finance"})
        assert noted.status_code == 201
        history = admin.get("/v1/migrations/guarded/history").json()["items"]
        assert {"approval", "approve", "note", "planned"} <= {e["action"] for e in history}


def test_a_trigger_that_awaits_approval_asks_for_it_for_the_runs_it_starts() -> None:
    spec = MigrationSpec.model_validate(
        {
            "id": "hooked",
            "kind": "command",
            "command": "true",
            "trigger": {"type": "webhook", "secret": "${S}", "await_approval": True},
            "approval": {"approvers": 2},
        }
    )
    assert spec.approvals_needed("EVENT") == 2
    assert spec.approvals_needed("MANUAL") == spec.approvals_needed("SCHEDULED") == 0
    api = spec.model_copy(update={"trigger_": spec.trigger_.model_copy(update={"type": "api"})})
    assert api.approvals_needed("MANUAL") == 2 and api.approvals_needed("EVENT") == 0
