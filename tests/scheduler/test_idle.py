"""An idle wake-up is cheap and misses nothing: with schedules that are not due and no run,
a tick of the engine and a pass of the notification dispatcher read one statement each and
check no connection just used; what another process queues meanwhile, unannounced, the next
tick starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from moonshift.app import Moonshift, Settings
from moonshift.engine.daemon import run_daemon
from moonshift.engine.loop import Engine as Scheduler
from moonshift.engine.loop import SchedulerConfig
from moonshift.engine.outbox import Dispatcher
from moonshift.specfile import load_text
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


def test_on_sqlite_a_wait_lasts_until_another_connection_commits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store, other = StateStore.open(url), StateStore.open(url)
    stop = threading.Event()
    waiter = store.waiter(stop)
    try:
        assert waiter.sees_every_change
        waiter.mark()
        began = time.monotonic()
        assert not waiter.wait(1.0, poll=0.05)  # nothing changes: the whole second
        assert time.monotonic() - began >= 1.0
        waiter.mark()
        writer = threading.Timer(
            0.2, lambda: other.register_daemon("w", host="h", pid=1, now=datetime.now(UTC))
        )
        writer.start()
        began = time.monotonic()
        assert waiter.wait(120.0, poll=0.05)
        writer.join()
        assert time.monotonic() - began < 60  # woken by the commit, not by the time
    finally:
        waiter.close()
        store.close()
        other.close()


def test_on_sqlite_an_idle_daemon_ticks_when_the_store_changes_not_at_every_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, home = f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "home"
    app = Moonshift(Settings(state_url=url, home=home))
    for spec in load_text(SPECS):
        app.migrations.apply_spec(spec, actor="user:test")
    ticks: list[float] = []
    tick = Scheduler.tick

    def counted(engine: Scheduler) -> datetime:
        ticks.append(time.monotonic())
        return tick(engine)

    monkeypatch.setattr(Scheduler, "tick", counted)
    launcher, stop = RecordingLauncher(), threading.Event()
    config = SchedulerConfig(poll_seconds=0.05)
    daemon = threading.Thread(
        target=run_daemon, args=(url, home, config, launcher), kwargs={"stop": stop}
    )
    daemon.start()
    try:
        until(lambda: ticks)
        began = time.monotonic()
        time.sleep(3)
        # a poll every 0.05 s would tick 60 times; a heartbeat (every 5 s) makes one
        assert len([t for t in ticks if t > began]) < 30
        run = app.runs.run_now("b", actor="user:test")  # on SQLite nothing is announced
        until(lambda: run.id in launcher.launched)
    finally:
        stop.set()
        daemon.join(60)
        app.close()


def until(check: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true within {seconds}s"
        time.sleep(0.05)
