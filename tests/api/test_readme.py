"""Every curl line of the README's REST API section, in order, against a real `moonshift
serve --with-daemon` and a real copy between two databases: each does what the runbook
step says. The README's own YAML is the spec file; only the port and the keys are ours."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server, running, wait_for

README = Path(__file__).resolve().parents[2] / "README.md"
HOST = "http://127.0.0.1:8420"
ROWS = 4000
BAD_ROWS = (2, 3)  # emails without "@": the warehouse's CHECK refuses them
SECRET = "readme-trigger-secret"
# Each curl answers its body on a line; any HTTP error fails the block.
PRELUDE = 'curl() { command curl -sS --fail-with-body --max-time 60 "$@"; echo; }\n'


def section() -> str:
    text = README.read_text()
    start = text.index("## REST API")
    return text[start : text.index("\n## ", start + 1)]


def blocks(kind: str) -> list[str]:
    return [
        body for lang, body in re.findall(r"```(\w+)\n(.*?)```", section(), re.S) if lang == kind
    ]


def make_databases(folder: Path) -> None:
    with sqlite3.connect(folder / "shop.db") as shop:
        shop.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, "
            "updated_at TEXT NOT NULL)"
        )
        shop.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?)",
            [
                (
                    i,
                    f"no-at-{i}" if i in BAD_ROWS else f"c{i}@example.com",
                    f"customer {i}",
                    f"2026-01-01T00:00:{i % 60:02d}",
                )
                for i in range(1, ROWS + 1)
            ],
        )
    with sqlite3.connect(folder / "warehouse.db") as warehouse:
        warehouse.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL "
            "CHECK (email LIKE '%@%'), name TEXT, updated_at TEXT NOT NULL)"
        )
        # a warehouse that takes its time over each row, so the runbook can catch the copy
        warehouse.execute(
            "CREATE TRIGGER audit AFTER INSERT ON customers BEGIN SELECT count(*) FROM "
            "(WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 7000) "
            "SELECT x FROM r); END"
        )


def count(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM customers").fetchone()[0])


class Runbook:
    def __init__(self, server: Server, folder: Path) -> None:
        self.server, self.folder = server, folder
        self.api = server.client()

    def get(self, path: str) -> Any:
        response = self.api.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def run_state(self, migration: str = "shop-copy") -> str:
        return str(self.get(f"/v1/migrations/{migration}/runs")["items"][0]["state"])

    def wait_state(self, state: str) -> None:
        wait_for(lambda: self.run_state() == state, f"shop-copy's run to be {state}", 120)

    def shell(self, block: str) -> str:
        env = {
            "PATH": os.environ["PATH"],
            "MOONSHIFT_KEY": self.server.keys["admin"],
            "MOONSHIFT_FEED_KEY": self.server.keys["feed"],
            "TRIGGER_SECRET": SECRET,
        }
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", PRELUDE + block.replace(HOST, self.server.url)],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
        return done.stdout


def _answers(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_every_curl_line_of_the_readme_does_what_the_runbook_says(tmp_path: Path) -> None:
    for block in blocks("yaml"):
        name = block.splitlines()[0].removeprefix("# ").strip()
        if name.endswith(".yaml"):
            (tmp_path / name).write_text(block)
    make_databases(tmp_path)
    steps = [b for b in blocks("sh") if "curl" in b]
    checks: list[tuple[Callable[[Runbook], None] | None, Callable[[Runbook, str], None]]] = [
        (None, started),
        (lambda r: r.wait_state("running"), lambda r, _: r.wait_state("paused")),
        (None, lambda r, _: r.wait_state("running")),
        (None, stopped),
        (fix_the_source, errors_handled),
        (None, rolled_back),
        (None, reconfigured),
        (
            None,
            lambda _r, out: (
                _answers(out)
                == [
                    {
                        "ok": True,
                        "reason": None,
                        "seconds": _answers(out)[0]["seconds"],
                        "connection": "shop",
                    }
                ]
                or pytest.fail(out)
            ),
        ),
        (None, synced),
        (None, scheduled),
        (None, webhook_started),
    ]
    assert len(steps) == len(checks), "a runbook step of the README has no check here"
    with running(tmp_path, with_daemon=True, env={"TRIGGER_SECRET": SECRET}) as server:
        runbook = Runbook(server, tmp_path)
        wait_for(lambda: runbook.get("/v1/daemons")["items"], "the daemon")
        for block, (before, after) in zip(steps, checks, strict=True):
            if before is not None:
                before(runbook)
            after(runbook, runbook.shell(block))
        runbook.api.close()


def started(runbook: Runbook, output: str) -> None:
    tests = _answers(output)[:2]
    assert [t["ok"] for t in tests] == [True, True], tests
    assert "not-kept" not in output
    assert "event: progress" in output
    assert runbook.get("/v1/migrations/shop-copy")["runs"][0]["created_by"] == "api:admin"
    wait_for(
        lambda: len(runbook.get("/v1/migrations/shop-copy/errors")["items"]) == 2,
        "the refused rows",
        120,
    )


def fix_the_source(runbook: Runbook) -> None:
    with sqlite3.connect(runbook.folder / "shop.db") as shop:
        shop.execute(
            "UPDATE customers SET email = 'fixed-' || id || '@example.com' WHERE id IN (2, 3)"
        )


def errors_handled(runbook: Runbook, output: str) -> None:
    listed, one, skipped, retried = _answers(output)
    assert [e["row_key"] is not None for e in listed["items"]] == [True, True]
    assert (one["id"], skipped["status"], retried["status"]) == (1, "skipped", "resolved")


def stopped(runbook: Runbook, output: str) -> None:
    assert "(immediate)" in _answers(output)[0]["control"]["reason"]
    runbook.wait_state("paused")
    assert 0 < count(runbook.folder / "warehouse.db") < ROWS


def rolled_back(runbook: Runbook, output: str) -> None:
    truncated, restored, status = _answers(output)
    assert (truncated["strategy"], truncated["state"]) == ("truncate", "completed")
    assert (restored["strategy"], restored["state"]) == ("point-in-time", "completed")
    assert [r["strategy"] for r in status["items"]] == ["point-in-time", "truncate"]
    assert count(runbook.folder / "warehouse.db") == 0  # as it was when the copy started


def reconfigured(runbook: Runbook, output: str) -> None:
    bottleneck, run = _answers(output)
    # the stages of the batches of the run's latest stretch (none, if it was stopped at once)
    assert bottleneck["stage"] in (None, "read", "transform", "write") and bottleneck["advice"]
    assert run["overrides"] == {"parallel": 2}


def reachable(_runbook: Runbook, output: str) -> None:
    [tested] = _answers(output)
    assert (tested["ok"], tested["connection"]) == (True, "shop"), output


def synced(runbook: Runbook, output: str) -> None:
    assert _answers(output)[0]["trigger"] == "MANUAL"

    def caught_up() -> bool:
        lag = runbook.get("/v1/migrations/shop-sync/lag")["items"]
        return runbook.run_state("shop-sync") == "completed" and all(
            t["rows_behind"] == 0 for t in lag
        )

    wait_for(caught_up, "lag 0", 120)
    assert count(runbook.folder / "replica.db") == ROWS


def scheduled(runbook: Runbook, output: str) -> None:
    created, shown, moved = _answers(output)[:3]
    assert created["schedule"] == {
        "start_at": "2027-02-03T02:00:00Z",
        "timezone": "America/New_York",
    }
    assert shown["next_fire_at"] == "2027-02-03T02:00:00+00:00"
    assert moved["next_fire_at"] == "2027-02-04T02:00:00+00:00"
    assert "UID:shop-copy.run.20270204T020000Z@moonshift" in output
    assert runbook.api.get("/v1/migrations/shop-copy/schedule").status_code == 404


def webhook_started(runbook: Runbook, output: str) -> None:
    run = _answers(output)[0]
    assert (run["trigger"], run["created_by"]) == ("EVENT", "webhook:shop-sync")
