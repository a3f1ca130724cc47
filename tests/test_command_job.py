"""Command runs, executed for real through the service on both state stores."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.engine.pidfile import process_alive

ACTOR = "user:test"


def add(app: Moonshift, command: object, **extra: object) -> str:
    spec = MigrationSpec.model_validate(
        {"id": "job", "kind": "command", "command": command, **extra}
    )
    app.migrations.apply_spec(spec, actor=ACTOR)
    return spec.id


def run(app: Moonshift) -> int:
    record = app.runs.execute(app.runs.run_now("job", actor=ACTOR).id)
    return record.id


def test_success_keeps_stdout_and_walks_the_lifecycle(app: Moonshift) -> None:
    add(app, ["/bin/sh", "-c", 'echo "run $MOONSHIFT_RUN_ID of $MOONSHIFT_MIGRATION_ID"'])
    run_id = run(app)
    record = app.runs.get(run_id)
    assert (record.state, record.exit_code, record.reason) == (State.COMPLETED, 0, "job succeeded")
    assert app.runs.log(run_id).content == f"run {run_id} of job\n"
    steps = [e for e in reversed(app.runs.history("job")) if e.run_id == run_id]
    assert "planned" in [e.action for e in steps]  # the stored plan, between the states
    states = [e.to_state for e in steps if e.to_state]
    assert states == [
        "created",
        "analyzing",
        "planning",
        "awaiting_approval",
        "approved",
        "running",
        "completed",
    ]


def test_failure_keeps_the_stderr_tail(app: Moonshift) -> None:
    add(app, "for i in $(seq 1 30); do echo line$i >&2; done; exit 3")
    record = app.runs.get(run(app))
    assert (record.state, record.exit_code, record.reason) == (State.FAILED, 3, "exit status 3")
    assert record.error_tail is not None
    assert record.error_tail.splitlines() == [f"line{i}" for i in range(11, 31)]
    assert app.runs.log(record.id, "stderr").content.count("\n") == 30


def test_timeout_kills_the_whole_process_group(app: Moonshift, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    add(app, {"run": f"sleep 60 & echo $! > {pidfile}; wait", "timeout": "1s", "kill_grace": "1s"})
    started = time.monotonic()
    record = app.runs.get(run(app))
    assert time.monotonic() - started < 10
    assert record.state is State.FAILED and record.reason == "timeout: still running after 1s"
    grandchild = int(pidfile.read_text())
    time.sleep(0.2)
    assert not process_alive(grandchild)


def test_a_term_ignoring_command_is_killed_after_the_grace(app: Moonshift) -> None:
    add(app, {"run": "trap '' TERM; sleep 30", "timeout": "1s", "kill_grace": "1s"})
    record = app.runs.get(run(app))
    assert record.state is State.FAILED and record.exit_code == -9


def test_env_references_resolve_at_run_time(app: Moonshift) -> None:
    add(app, {"run": 'printf "%s" "$GREETING"', "env": {"GREETING": "hi ${WHO:-there}"}})
    assert app.runs.log(run(app)).content == "hi there"


def test_missing_variable_fails_in_analysis(app: Moonshift) -> None:
    add(app, {"run": "true", "env": {"TOKEN": "${API_TOKEN}"}})
    record = app.runs.get(run(app))
    assert record.state is State.FAILED
    assert record.reason == "command.env.TOKEN: environment variable API_TOKEN is not set"
    assert record.started_at is None


def test_missing_program_and_cwd(app: Moonshift, tmp_path: Path) -> None:
    add(app, ["/no/such/program"])
    record = app.runs.get(run(app))
    assert record.state is State.FAILED and "cannot start /no/such/program" in (record.reason or "")
    add(app, {"run": "pwd", "cwd": str(tmp_path / "missing")})
    record = app.runs.get(run(app))
    assert record.reason == f"command.cwd: no such directory: {tmp_path / 'missing'}"


def test_a_copy_of_an_empty_source_fails_clearly(app: Moonshift, tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "a.db").close()
    spec = MigrationSpec.model_validate(
        {
            "id": "job",
            "kind": "copy",
            "source": {"url": f"sqlite:///{tmp_path / 'a.db'}"},
            "target": {"url": f"sqlite:///{tmp_path / 'b.db'}"},
        }
    )
    app.migrations.apply_spec(spec, actor=ACTOR)
    record = app.runs.get(run(app))
    assert record.state is State.FAILED
    assert record.reason == "copy.tables: no table to copy"
