"""Due fires are written in bulk: each run once, claimed or waiting as it is inserted, with its
audit entry and outbox event, on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.engine.loop import Engine, SchedulerConfig
from moonshift.specfile import load_text
from tests.helpers import FakeClock

T0 = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
SPECS = """
- {id: a, kind: steps, steps: {count: 1}, schedule: {interval: 10m}}
- {id: b, kind: steps, steps: {count: 1}, schedule: {interval: 10m}, depends_on: [{migration: a}]}
"""


class RecordingLauncher:
    """Starts nothing: the runs stay as the scheduler wrote them."""

    def __init__(self) -> None:
        self.launched: list[int] = []

    def launch(self, run_id: int, owner: str) -> int:
        self.launched.append(run_id)
        return 10_000 + run_id

    def running(self) -> set[int]:
        return set(self.launched)

    def finished(self) -> list[tuple[int, int, int]]:
        return []


def test_due_fires_are_inserted_claimed_or_waiting_with_their_audit_and_event(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    clock.current = T0
    for spec in load_text(SPECS):
        app.migrations.apply_spec(spec, actor="user:test")
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
