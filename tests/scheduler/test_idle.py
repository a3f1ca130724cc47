"""An idle wake-up is cheap and misses nothing: with schedules that are not due and no run,
a tick of the engine and a pass of the notification dispatcher read one statement each and
check no connection just used; what another process queues meanwhile, unannounced, the next
tick starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from moonshift.app import Moonshift
from moonshift.engine.loop import Engine as Scheduler
from moonshift.engine.loop import SchedulerConfig
from moonshift.engine.outbox import Dispatcher
from moonshift.store import StateStore
from tests.helpers import FakeClock
from tests.scheduler.sim import RecordingLauncher
from tests.scheduler.test_policies import apply

SPECS = """
- {id: a, kind: steps, steps: {count: 1}, schedule: {interval: 1h}}
- {id: b, kind: steps, steps: {count: 1}, schedule: {interval: 1h}}
"""


class Counted:
    """Statements sent on ``engine`` (not the BEGIN that opens an SQLite transaction) and
    connection checks, from now on."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        self.pings = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        ping = engine.dialect.do_ping

        def counting(dbapi_connection: Any) -> bool:
            self.pings += 1
            return ping(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counting)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.strip().upper() != "BEGIN":
            self.statements.append(statement)

    def during(self, action: Callable[[], object]) -> list[str]:
        before = len(self.statements)
        action()
        return self.statements[before:]


def test_an_idle_wake_reads_one_statement_and_checks_no_connection(
    app: Moonshift, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a connection used a moment ago is not checked, however slow this machine is today
    monkeypatch.setattr("moonshift.store.engine.PING_AFTER_IDLE_SECONDS", 60.0)
    apply(app, clock, SPECS)
    launcher = RecordingLauncher()
    config = SchedulerConfig()
    engine = Scheduler(app.store, clock, launcher, config, daemon_id="d", home=tmp_path / "d")
    dispatcher = Dispatcher(app.store, clock, {})
    engine.tick()  # loads the schedules
    dispatcher.pass_once()  # routes the events of the apply
    counted = Counted(app.store.engine, monkeypatch)
    for _ in range(3):
        clock.advance(1)
        assert len(counted.during(engine.tick)) == 1
        assert len(counted.during(dispatcher.pass_once)) == 1
    assert counted.pings == 0
    assert launcher.launched == []

    run = app.runs.run_now("b", actor="user:test")  # no announcement, as from a worker
    clock.advance(1)
    engine.tick()
    assert launcher.launched == [run.id]


@pytest.mark.postgres
def test_a_connection_left_idle_is_checked_before_use(
    pg_state: str, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore.open(pg_state)
    try:
        monkeypatch.setattr("moonshift.store.engine.PING_AFTER_IDLE_SECONDS", 0.0)
        counted = Counted(store.engine, monkeypatch)
        store.glance(clock.now(), daemon_id="d")
        assert counted.pings == 1
    finally:
        store.close()
