"""A manual run outside every window: the CLI (with and without a daemon) and the REST API
refuse it and name the next opening in the migration's zone, unless it ignores its windows;
then the daemon starts it at once and leaves it alone to its end.

The window first opens on 2030-01-07, so "now" is outside every window whatever the clock
says, and the next opening is known: 22:00 in New York that day (EST, 03:00 UTC the next day)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.api.server import Server, running, wait_for
from tests.helpers import moonshift

NEXT_OPENING = "the next, nightly, opens at 2030-01-07 22:00 EST (2030-01-08 03:00 UTC)"


def spec(migration_id: str, command: str, outside_window: str = "pause") -> dict[str, object]:
    return {
        "id": migration_id,
        "kind": "command",
        "command": command,
        "schedule": {"start_at": "2030-01-07T22:30:00", "timezone": "America/New_York"},
        "windows": [{"name": "nightly", "start": "22:00", "end": "23:00", "from": "2030-01-07"}],
        "window_behavior": {"outside_window": outside_window},
    }


def _said(text: str) -> str:
    return " ".join(text.split())  # the console wraps long messages


def test_the_cli_refuses_a_run_now_outside_every_window_unless_it_ignores_them(
    tmp_path: Path,
) -> None:
    specs = {"migrations": [spec("paused-out", "echo done"), spec("failed-out", "true", "fail")]}
    (tmp_path / "m.yaml").write_text(json.dumps(specs))
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    for migration, wait in (("failed-out", ["--wait"]), ("paused-out", [])):
        refused = moonshift(tmp_path, "run-now", migration, *wait)
        assert refused.returncode == 1, refused.stderr
        said = _said(refused.stderr)
        assert f'"{migration}" is outside every window at ' in said
        assert f"{NEXT_OPENING}; start it then, or now with --ignore-windows" in said
        assert "Traceback" not in said
    assert json.loads(moonshift(tmp_path, "runs", "failed-out", "--json").stdout) == []
    ran = moonshift(tmp_path, "run-now", "paused-out", "--wait", "--ignore-windows", "--json")
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert (run["state"], run["ignore_windows"]) == ("completed", True)
    assert "its windows ignored" in moonshift(tmp_path, "history", "paused-out").stdout


def _runs(server: Server, migration: str) -> list[dict[str, object]]:
    with server.client("read") as c:
        items: list[dict[str, object]] = c.get(f"/v1/migrations/{migration}/runs").json()["items"]
        return items


def _heartbeat(server: Server) -> datetime:
    store = server.store()
    try:
        [daemon] = store.live_daemons(datetime.now(UTC), within_seconds=600)
        return daemon.heartbeat_at
    finally:
        store.close()


def _two_ticks_later(server: Server) -> None:
    """Wait until the daemon has begun and ended a whole tick (it supervises every running
    run at the start of each) after this call."""
    since = datetime.now(UTC)
    first = wait_for(lambda: (h := _heartbeat(server)) > since and h, "a daemon tick", 90)
    wait_for(lambda: _heartbeat(server) > first, "another daemon tick", 90)  # type: ignore[operator]


def test_runs_that_ignore_their_windows_are_left_alone_by_the_daemon(tmp_path: Path) -> None:
    release = tmp_path / "release"
    held = f"echo started; while [ ! -f '{release}' ]; do sleep 0.1; done"
    specs = {"migrations": [spec("paused-out", held), spec("failed-out", held, "fail")]}
    with running(tmp_path, with_daemon=True) as server:
        with server.client() as admin:
            assert admin.post("/v1/migrations", json=specs).status_code == 201
        with server.client("operate") as operator:
            refused = operator.post("/v1/migrations/paused-out/start")
            assert refused.status_code == 409, refused.text
            assert NEXT_OPENING in refused.json()["detail"]
            assert _runs(server, "paused-out") == []
            started = operator.post("/v1/migrations/paused-out/start?ignore_windows=true")
            assert started.status_code == 202, started.text
            assert started.json()["ignore_windows"] is True
        env = {"MOONSHIFT_STATE": server.state_url, "MOONSHIFT_HOME": str(server.home)}
        cli = moonshift(tmp_path, "run-now", "failed-out", "--ignore-windows", env=env)
        assert cli.returncode == 0, cli.stderr

        def both_running() -> bool:
            runs = _runs(server, "paused-out") + _runs(server, "failed-out")
            return [r["state"] for r in runs] == ["running", "running"]

        wait_for(both_running, "both runs running", 90)
        _two_ticks_later(server)
        runs = _runs(server, "paused-out") + _runs(server, "failed-out")
        assert [(r["state"], r["control"], r["warned_at"]) for r in runs] == [
            ("running", None, None),
            ("running", None, None),
        ]
        release.write_text("go")

        def both_ended() -> list[str] | None:
            states = [str(r["state"]) for r in _runs(server, "paused-out")]
            states += [str(r["state"]) for r in _runs(server, "failed-out")]
            return states if "running" not in states else None

        assert wait_for(both_ended, "both runs ended", 90) == ["completed", "completed"]
        with server.client("read") as reader:
            for migration in ("paused-out", "failed-out"):
                steps = reader.get(f"/v1/migrations/{migration}/history").json()["items"]
                stopped = [
                    s
                    for s in steps
                    if s["to_state"] in ("paused", "failed")
                    or "window_closed" in str(s["reason"])
                    or str(s["action"]).startswith("window_ending")
                ]
                assert stopped == [], steps
