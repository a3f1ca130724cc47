"""Pre-flight: source and target reachable before a scheduled start, and again at the start."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.connectors.probe import unreachable
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.engine.preflight import Preflight
from moonshift.specfile import load_text
from tests.helpers import PG_ADMIN, FakeClock

DOWN = "postgresql://app:${PW}@127.0.0.1:1/x"


def test_probe_answers_and_never_shows_a_secret(tmp_path: Path) -> None:
    assert unreachable(PG_ADMIN, {}) is None
    reason = unreachable(DOWN, {"PW": "hunter2"})
    assert reason is not None
    assert "hunter2" not in reason
    assert "OperationalError" in reason
    assert unreachable(DOWN, {}) == "environment variable PW is not set"
    assert (
        unreachable(f"sqlite:///{tmp_path / 'none.db'}", {})
        == f"no SQLite file at {tmp_path / 'none.db'}"
    )
    assert unreachable(f"sqlite:///{tmp_path / 'new.db'}", {}, must_exist=False) is None
    assert not (tmp_path / "new.db").exists()  # a check creates nothing


def test_probing_a_sqlite_file_reads_it_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    before = path.read_bytes()
    assert unreachable(f"sqlite:///{path}", {}) is None
    assert path.read_bytes() == before  # its journal mode (in the header) stays as it was
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    (tmp_path / "notes.db").write_text("not a database, only text, " * 20)
    reason = unreachable(f"sqlite:///{tmp_path / 'notes.db'}", {})
    assert reason == "DatabaseError: file is not a database"


def test_a_failing_endpoint_is_recorded_before_the_start_and_announced(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    source = tmp_path / "source.db"
    sqlite3.connect(source).close()
    clock.current = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    for spec in load_text(
        f"- {{id: ok, kind: command, command: 'true', source: {{url: 'sqlite:///{source}'}}, schedule: {{cron: '0 2 * * *'}}}}\n"
        f"- {{id: down, kind: command, command: 'true', target: {{url: '{DOWN}'}}, schedule: {{cron: '0 2 * * *'}}}}\n"
    ):
        app.migrations.apply_spec(spec, actor="user:test")

    def specs(ids: set[str]) -> dict[str, MigrationSpec]:
        return {m: app.migrations.spec(m) for m in ids}

    preflight = Preflight(app.store, clock, {"PW": "hunter2"})
    clock.current = datetime(2026, 5, 4, 1, 20, tzinfo=UTC)  # 40 minutes before: too early
    hints = preflight.tick(clock.now(), specs, changed_at=app.store.schedules_changed_at())
    assert datetime(2026, 5, 4, 1, 30, tzinfo=UTC) in hints
    assert app.store.get_events("down") == []
    clock.current = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)
    preflight.tick(clock.now(), specs, changed_at=app.store.schedules_changed_at())
    preflight._pool.shutdown(wait=True)
    [ok] = app.store.get_events("ok")
    assert (ok.event_type, ok.outcome) == ("preflight", "ok")
    [down] = app.store.get_events("down")
    assert down.outcome == "failed"
    assert down.reason is not None
    assert down.reason.startswith(
        "for the start at 2026-05-04T02:00:00+00:00: target unreachable: OperationalError"
    )
    assert "hunter2" not in down.reason
    clock.current = datetime(2026, 5, 4, 1, 50, tzinfo=UTC)  # the notify lead
    preflight.tick(clock.now(), specs, changed_at=app.store.schedules_changed_at())
    outcomes = [e.outcome for e in app.store.get_events("down")]
    assert outcomes == ["announced", "failed"]
    assert [e.outcome for e in app.store.get_events("ok")] == ["ok"]


def test_the_start_checks_again_and_fails_clearly(app: Moonshift, clock: FakeClock) -> None:
    [spec] = load_text(f"id: down\nkind: command\ncommand: 'true'\ntarget: {{url: '{DOWN}'}}\n")
    app.migrations.apply_spec(spec, actor="user:test")
    run = app.runs.execute(app.runs.run_now("down", actor="user:test").id)
    assert run.state is State.FAILED
    assert run.reason is not None
    assert run.reason.startswith("target unreachable: environment variable PW is not set")
    assert run.started_at is None
    assert clock.now() - run.created_at < timedelta(seconds=1)
