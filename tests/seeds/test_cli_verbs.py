"""The command lines of a scheduler's README (``npm run schedule -- create ...``, and the
``schedule-*`` scripts) with ``moonshift`` in their place, in the README's order, against a
daemon and real SQLite databases."""

from __future__ import annotations

import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import moonshift
from tests.scheduler.test_daemon import start_daemon, until
from tests.seeds.cli import invoke

CONNECTIONS = """
connections:
  - {{id: development, type: sqlite, url: "sqlite:///{dev}"}}
  - {{id: staging, type: sqlite, url: "sqlite:///{staging}"}}
migrations:
  - id: exporter
    kind: command
    command: "echo exported"
"""


@pytest.fixture
def place(tmp_path: Path) -> Path:
    dev = tmp_path / "dev.db"
    with sqlite3.connect(dev) as db:
        db.execute("create table users (id integer primary key, name text not null)")
        db.executemany("insert into users values (?, ?)", [(i, f"user {i}") for i in range(50)])
    (tmp_path / "setup.yaml").write_text(
        CONNECTIONS.format(dev=dev, staging=tmp_path / "staging.db")
    )
    assert invoke(tmp_path, "apply", "setup.yaml").returncode == 0
    return tmp_path


def ok(place: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = invoke(place, *args, env=env)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def runs(place: Path, migration: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(place, "runs", migration, "--json")))


def test_the_readme_command_lines_in_order(place: Path) -> None:
    daemon = start_daemon(place)  # npm run schedule-daemon (it runs in the background)
    try:
        assert "no migrations" not in ok(place, "list")  # schedule-list
        created = ok(
            place,
            *("create", "--name", "Nightly Sync", "--cron", "0 2 * * *"),
            *("--source", "development", "--target", "staging"),
        )
        assert created.startswith("nightly-sync: created")
        assert "schedule: cron 0 2 * * * (UTC)" in ok(place, "show", "nightly-sync")

        assert "(schedule.cron)" in ok(place, "update", "nightly-sync", "--cron", "0 3 * * *")
        assert "cron: 0 3 * * *" in ok(place, "export", "nightly-sync")

        assert "is disabled" in ok(place, "disable", "nightly-sync")  # schedule-stop
        assert "is enabled" in ok(place, "enable", "nightly-sync")  # schedule-start

        background = moonshift(place, "run-now", "nightly-sync")  # a worker process of its own
        assert "started in the background" in background.stdout, background.stderr
        until(lambda: runs(place, "nightly-sync")[0]["state"] == "completed", 60)
        with sqlite3.connect(place / "staging.db") as db:
            assert db.execute("select count(*) from users").fetchone() == (50,)

        for other in ("abc123", "def456"):
            ok(place, "create", "--id", other, "--source", "development", "--target", "staging")
        env = {"MOONSHIFT_SOURCE": "development", "MOONSHIFT_TARGET": "staging"}
        ok(
            place,
            *("create", "--name", "User Data Migration", "--dependencies", "abc123,def456"),
            *("--dependency-strategy", "wait", "--dependency-timeout", "120"),
            env=env,
        )
        spec = json.loads(ok(place, "export", "user-data-migration", "--json"))["spec"]
        assert spec["depends_on"] == [{"migration": "abc123"}, {"migration": "def456"}]
        assert (spec["dependency_strategy"], spec["dependency_timeout"]) == ("wait", "2m")

        one = ok(place, "dependencies", "user-data-migration")  # schedule-dependencies <id>
        assert "abc123" in one and "def456" in one
        assert "user-data-migration" in ok(place, "dependencies")
        graph = ok(place, "dependencies", "--graph")
        assert "    abc123 --> user-data-migration\n    def456 --> user-data-migration" in graph
        assert ok(place, "deps", "--format", "dot").startswith("digraph")

        cycle = invoke(place, "update", "abc123", "--dependencies", "user-data-migration")
        assert cycle.returncode == 2 and "--dependencies: dependency cycle" in cycle.stderr

        ok(place, "run-now", "exporter", "--wait")
        assert ok(place, "logs", "exporter") == "exported\n"
        no_log = invoke(place, "logs", "nightly-sync")
        assert no_log.returncode == 2 and "moonshift history nightly-sync" in no_log.stderr

        assert "deleted user-data-migration" in ok(place, "delete", "user-data-migration")
    finally:
        stopped = moonshift(place, "daemon", "stop")  # npm run schedule-daemon-stop
    assert stopped.returncode == 0 and f"daemon pid {daemon} stopped" in stopped.stdout


def test_the_daemon_in_the_foreground(place: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "moonshift.cli", "daemon", "--no-detach", "--poll", "0.1"],
        cwd=place,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(lambda: "running with pid" in ok(place, "daemon", "status"), 60)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0


def test_create_asks_on_a_terminal(place: Path) -> None:
    """Run on a terminal without options, create asks for each value, and update shows
    each current one."""
    answers = "Weekly Users\n0 4 * * 0\ndevelopment\nstaging\n\n\n\n"
    output = on_terminal(place, ["create"], answers)
    assert "Name" in output and "Source" in output
    assert "weekly-users: created" in output
    spec = json.loads(ok(place, "export", "weekly-users", "--json"))["spec"]
    assert spec["schedule"] == {"cron": "0 4 * * 0"}
    assert spec["source"] == {"connection": "development"}

    output = on_terminal(place, ["update", "weekly-users"], "\n0 5 * * 0\n\n\n\n\n\n")
    assert "[0 4 * * 0]" in output and "weekly-users: updated" in output
    spec = json.loads(ok(place, "export", "weekly-users", "--json"))["spec"]
    assert (spec["name"], spec["schedule"]) == ("Weekly Users", {"cron": "0 5 * * 0"})


def on_terminal(place: Path, args: list[str], answers: str) -> str:
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "moonshift.cli", *args],
        cwd=place,
        env={**env, "COLUMNS": "200"},
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    os.write(main, answers.encode())
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(60) == 0, output
    os.close(main)
    return output.decode(errors="replace")
