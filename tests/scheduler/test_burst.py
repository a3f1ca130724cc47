"""Due fires are written in bulk: each run once, claimed or waiting as it is inserted, with its
audit entry and outbox event, on every store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.engine.loop import Engine, SchedulerConfig
from tests.helpers import FakeClock
from tests.scheduler.sim import RecordingLauncher
from tests.scheduler.test_policies import T0, apply

SPECS = """
- {id: a, kind: steps, steps: {count: 1}, schedule: {interval: 10m}}
- {id: b, kind: steps, steps: {count: 1}, schedule: {interval: 10m}, depends_on: [{migration: a}]}
"""


def test_due_fires_are_inserted_claimed_or_waiting_with_their_audit_and_event(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(app, clock, SPECS)
    launcher = RecordingLauncher()
    engine = Engine(
        app.store, clock, launcher, SchedulerConfig(), daemon_id="d", home=tmp_path / "d"
    )
    engine.tick()
    clock.current = T0 + timedelta(minutes=10)
    engine.tick()
    [a] = app.store.list_runs("a")
    [b] = app.store.list_runs("b")
    assert launcher.launched == [a.id]
    assert (a.lease_owner, a.heartbeat_at, a.waiting_for) == ("d", clock.now(), None)
    # b's dependency is a's run of the same tick, which the store did not hold yet
    assert b.lease_owner is None
    assert b.waiting_for is not None
    assert b.waiting_for.startswith("waiting for dependency a to be ")
    assert b.waiting_for.endswith(f"(run {a.id} is created)")
    for run in (a, b):
        created = [e for e in app.store.history(run_id=run.id) if e.action == "create"]
        assert [(e.to_state, e.reason) for e in created] == [("created", "scheduled")]
        assert [n.kind for n in app.store.events_of(run_id=run.id)] == ["created"]
    engine.tick()  # a later tick writes nothing twice
    assert [r.id for r in app.store.list_runs("a")] == [a.id]
    assert launcher.launched == [a.id]
