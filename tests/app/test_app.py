"""The application layer itself, over SQLite and PostgreSQL: the views it returns, the kinds
of error it raises, and the rules it holds once for every face."""

from __future__ import annotations

import json
from datetime import date

import pytest

from moonshift.app import Moonshift, views
from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.progress import Progress, TableProgress
from moonshift.errors import Conflict, InvalidInput, NotFound, Unavailable
from moonshift.specfile import load_text

COMMANDS = """\
- {id: ok, kind: command, command: "true", tags: [nightly]}
- {id: bad, kind: command, command: "exit 3"}
- {id: hourly, kind: command, command: "true", schedule: {cron: "0 * * * *"}}
- id: copy
  kind: copy
  source: {url: "postgresql://app:${PGPW}@db.example/shop"}
  target: {url: "sqlite:///target.db"}
"""


@pytest.fixture
def loaded(app: Moonshift) -> Moonshift:
    for spec in load_text(COMMANDS):
        app.migrations.apply_spec(spec, actor="user:test")
    return app


def _json(value: views.View | list[views.View]) -> object:
    dumped = (
        value.model_dump(mode="json")
        if isinstance(value, views.View)
        else [v.model_dump(mode="json") for v in value]
    )
    return json.loads(json.dumps(dumped))


def test_runs_return_views_and_one_rule_says_what_succeeded(loaded: Moonshift) -> None:
    good = loaded.runs.execute(loaded.runs.run_now("ok", actor="user:test").id)
    bad = loaded.runs.execute(loaded.runs.run_now("bad", actor="user:test").id)
    assert (good.state, good.succeeded, good.active) == (State.COMPLETED, True, False)
    assert (bad.state, bad.succeeded, bad.exit_code) == (State.FAILED, False, 3)
    shown = _json(loaded.runs.list("ok"))
    assert isinstance(shown, list) and shown[0]["state"] == "completed"
    assert shown[0]["created_at"].endswith("+00:00")  # instants keep their offset
    summaries = {s.id: s.status for s in loaded.migrations.list()}
    assert summaries == {"bad": "failed", "copy": "idle", "hourly": "idle", "ok": "completed"}
    assert [s.id for s in loaded.migrations.list(tag="nightly")] == ["ok"]


def test_a_shown_spec_is_redacted_and_secrets_stay_references(loaded: Moonshift) -> None:
    detail = loaded.migrations.show("copy")
    assert detail.migration.spec["source"]["url"] == "postgresql://app:${PGPW}@db.example/shop"
    literal = {"source": {"url": "postgresql://app:hunter2@db/x"}, "target": {"url": "sqlite://"}}
    assert "hunter2" not in json.dumps(views.redact_spec(literal))


def test_errors_carry_a_kind_and_name_the_field_in_domain_words(loaded: Moonshift) -> None:
    with pytest.raises(InvalidInput) as raised:
        loaded.migrations.list(status="bogus")
    assert raised.value.field == "status" and "--" not in str(raised.value)
    with pytest.raises(InvalidInput) as raised:
        loaded.backfills.plan("hourly", date(2026, 1, 2), date(2026, 1, 1))
    assert (raised.value.field, raised.value.reason) == ("end", "must be after start")
    with pytest.raises(NotFound):
        loaded.migrations.get("nope")
    with pytest.raises(NotFound):
        loaded.runs.get(999)
    with pytest.raises(Unavailable, match="no moonshift daemon is running"):
        loaded.runs.start("ok", actor="user:test")
    with pytest.raises(Unavailable):
        loaded.backfills.create("hourly", date(2026, 1, 1), date(2026, 1, 2), actor="user:test")
    with pytest.raises(Conflict, match='"copy" has no running run'):
        loaded.copies.pause("copy", actor="user:test")


def test_delete_refuses_an_active_run_without_face_vocabulary(loaded: Moonshift) -> None:
    run = loaded.runs.run_now("ok", actor="user:test")
    with pytest.raises(Conflict) as raised:
        loaded.migrations.delete("ok", actor="user:test")
    assert f"has active runs ({run.id})" in str(raised.value) and "--" not in str(raised.value)
    deleted = loaded.migrations.delete("ok", actor="user:test", force=True)
    assert _json(deleted) == {"deleted": "ok", "cancelled_runs": [run.id]}
    assert loaded.runs.get(run.id).state is State.CANCELLED


def test_control_and_progress_are_typed_through_the_store(loaded: Moonshift) -> None:
    run = loaded.runs.run_now("copy", actor="user:test")
    request = ControlRequest(action=Action.HALT, reason="by hand", immediate=True)
    progress = Progress(tables={"t": TableProgress(state="copying", rows=5, total=10)})
    now = loaded.clock.now()
    loaded.store.update_run(run.id, now=now, control=request, progress=progress)
    back = loaded.runs.get(run.id)
    assert back.control == request and back.progress == progress
    assert request.ending(can_pause=True) is State.PAUSED and request.waits_for_operator
    assert ControlRequest(action=Action.PAUSE, reason="x").ending(can_pause=False) is State.FAILED
    status = _json(loaded.copies.status("copy"))
    assert isinstance(status, dict) and status["progress"]["tables"]["t"]["rows"] == 5
    perf = loaded.copies.bottleneck("copy")
    assert (perf.run, perf.stage) == (run.id, None)


def test_schedules_and_events(loaded: Moonshift) -> None:
    paused = loaded.schedules.set_paused("hourly", True, actor="user:test")
    assert paused.status.value == "PAUSED"
    resumed = loaded.schedules.set_paused("hourly", False, actor="user:test")
    assert resumed.next_fire_at is not None and resumed.next_fire_at > loaded.clock.now()
    with pytest.raises(Conflict, match="has no schedule"):
        loaded.schedules.set_paused("ok", True, actor="user:test")
    [event] = loaded.schedules.trigger_event("nothing", {"a": 1}, actor="user:test")
    assert event.outcome == "unmatched"
    up = loaded.schedules.upcoming("hourly", count=3)
    assert [d.due.minute for d in up.decisions] == [0, 0, 0] and up.schedule == "cron"
    windows = loaded.schedules.windows("hourly")
    assert _json(windows) == {"timezone": "UTC", "open_now": None, "windows": [], "defined": False}
    graph = loaded.migrations.dependencies()
    assert graph.depends_on["ok"] == [] and graph.dependents == {}
