"""Alerts: opened by a failure, an unreachable database or too many bad rows; sent again
until acknowledged (who and why in history); closed when the cause is resolved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.errors import Conflict
from moonshift.store.records import Trigger
from tests.api.server import running
from tests.helpers import FakeClock
from tests.notify.receiver import Receiver
from tests.notify.test_outbox import ENV, dispatcher

SPEC = """
channels: [{{id: hook, type: webhook, url: "{url}/hook", secret: "${{HOOK_SECRET}}"}}]
migrations:
  - id: job
    kind: steps
    steps: {{count: 1}}
    alerts: {{renotify: 10m}}
    notify: [{{channel: hook, on: [failed, unavailable, error_escalated]}}]
"""


@pytest.fixture
def wired(app: Moonshift, hook: Receiver) -> Moonshift:
    app.ctx.environ = ENV
    app.migrations.apply_document(SPEC.format(url=hook.url), actor="user:test")
    return app


def a_run(app: Moonshift, *states: State, reason: str = "exit status 3") -> int:
    now = app.clock.now()
    run = app.store.create_run(
        "job", trigger=Trigger.MANUAL, nominal_time=now, actor="user:test", now=now
    )
    for state in states:
        app.store.transition_run(run.id, state, actor="daemon:d1", now=now, reason=reason)
    return run.id


def to_running(app: Moonshift, *more: State, reason: str = "exit status 3") -> int:
    path = (State.ANALYZING, State.PLANNING, State.AWAITING_APPROVAL, State.APPROVED, State.RUNNING)
    return a_run(app, *path, *more, reason=reason)


def sent(hook: Receiver) -> list[str]:
    return [r.json()["type"] for r in hook.on("/hook")]


def test_an_alert_is_sent_again_until_acknowledged_then_closed_by_a_success(
    wired: Moonshift, hook: Receiver, clock: FakeClock
) -> None:
    run_id = a_run(wired, State.ANALYZING, State.FAILED)
    sender = dispatcher(wired)
    sender.pass_once()
    [alert] = wired.alerts.list()
    assert (alert.status, alert.cause, alert.severity, alert.run_id) == (
        "open",
        "failed",
        "critical",
        run_id,
    )
    assert alert.summary == f"job: run {run_id} failed: exit status 3"
    assert sent(hook) == ["failed"]
    clock.advance(9 * 60)
    sender.pass_once()
    assert sent(hook) == ["failed"]  # not due yet
    clock.advance(61)
    sender.pass_once()
    clock.advance(10 * 60)
    sender.pass_once()
    assert sent(hook) == ["failed", "alert", "alert"]
    reminder = hook.on("/hook")[-1].json()["data"]
    assert (reminder["alert_id"], reminder["cause"], reminder["reminder"]) == (
        alert.id,
        "failed",
        2,
    )
    acked = wired.alerts.acknowledge(alert.id, actor="user:oncall", note="looking at the source")
    assert (acked.status, acked.acknowledged_by, acked.note) == (
        "acknowledged",
        "user:oncall",
        "looking at the source",
    )
    with pytest.raises(Conflict, match="acknowledged by user:oncall"):
        wired.alerts.acknowledge(alert.id, actor="user:other")
    for _ in range(3):
        clock.advance(11 * 60)
        sender.pass_once()
    assert sent(hook) == ["failed", "alert", "alert"]  # no reminder once acknowledged
    [entry] = [h for h in wired.runs.history("job") if h.action == "alert acknowledged"]
    assert (entry.actor, entry.reason, entry.run_id) == (
        "user:oncall",
        "looking at the source",
        run_id,
    )
    to_running(wired, State.COMPLETED, reason="job succeeded")
    [closed] = wired.alerts.list(status="closed")
    assert (
        closed.id == alert.id and closed.closed_by is not None and "completed" in closed.closed_by
    )
    assert wired.alerts.list() == []
    assert any(h.action == "alert closed" for h in wired.runs.history("job"))


def test_unreachable_database_and_bad_rows_open_alerts_their_resolution_closes(
    wired: Moonshift, clock: FakeClock
) -> None:
    run_id = to_running(wired, State.PAUSED, reason="source_unavailable: connection refused")
    [alert] = wired.alerts.list()
    assert (alert.cause, alert.run_id) == ("unavailable", run_id)
    wired.store.transition_run(
        run_id, State.RUNNING, actor="daemon:d1", now=clock.now(), reason="resumed"
    )
    assert wired.alerts.list() == []
    wired.store.transition_run(
        run_id,
        State.PAUSED,
        actor="daemon:d1",
        now=clock.now(),
        reason="error_policy: 11 bad rows in 20 (max_errors 10, max_error_rate 0.5)",
    )
    [alert] = wired.alerts.list()
    assert alert.cause == "error_escalated"
    rows = [
        {"table_name": "users", "row_key": f"k{n}", "row_values": {"id": n}, "message": "bad"}
        for n in range(2)
    ]
    wired.store.add_copy_errors("job", run_id, rows, now=clock.now())
    first, second = wired.store.copy_errors("job")
    wired.copies.skip_error(first.id, actor="user:dba", reason="test row")
    assert [a.cause for a in wired.alerts.list()] == ["error_escalated"]  # one row left
    wired.copies.skip_error(second.id, actor="user:dba", reason="test row")
    assert wired.alerts.list() == []
    assert [a.cause for a in wired.alerts.list(status="closed")] == [
        "error_escalated",
        "unavailable",
    ]


def test_the_rest_api_lists_and_acknowledges_alerts(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client("operate") as operator:
        store = server.store()
        store.apply_migration(
            {"id": "job", "kind": "steps", "steps": {"count": 1}},
            actor="user:test",
            now=FakeClock().now(),
        )
        now = FakeClock().now()
        run = store.create_run("job", trigger=Trigger.MANUAL, nominal_time=now, actor="t", now=now)
        store.transition_run(run.id, State.ANALYZING, actor="t", now=now)
        store.transition_run(
            run.id, State.FAILED, actor="t", now=now + timedelta(seconds=1), reason="boom"
        )
        store.close()
        [alert] = operator.get("/v1/alerts").json()["items"]
        assert (alert["cause"], alert["status"], alert["migration_id"]) == ("failed", "open", "job")
        acked = operator.post(f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "mine"})
        assert acked.status_code == 200, acked.text
        assert (acked.json()["acknowledged_by"], acked.json()["note"]) == ("api:operate", "mine")
        again = operator.post(f"/v1/alerts/{alert['id']}/acknowledge")
        assert again.status_code == 409
        assert operator.post("/v1/alerts/999/acknowledge").status_code == 404
        history = operator.get("/v1/migrations/job/history").json()["items"]
        assert any(
            h["action"] == "alert acknowledged" and h["actor"] == "api:operate" for h in history
        )
        with server.client("read") as reader:
            assert reader.post(f"/v1/alerts/{alert['id']}/acknowledge").status_code == 403
