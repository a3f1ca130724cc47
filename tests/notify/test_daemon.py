"""From a real daemon: the stakeholders' notice before a scheduled start, skipped fires
with notify_on_skip, in the receiver, the daemon's log and ``status``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import moonshift
from tests.notify.receiver import Receiver
from tests.notify.test_outbox import ENV
from tests.scheduler.test_daemon import until


def test_notice_before_a_start_and_skips_reach_receiver_log_and_status(
    tmp_path: Path, hook: Receiver
) -> None:
    started = moonshift(tmp_path, "daemon", "--detach", "--poll", "0.1", "--json", env=ENV)
    assert started.returncode == 0, started.stderr
    start_at = (datetime.now(UTC) + timedelta(seconds=10)).replace(microsecond=0)
    (tmp_path / "m.yaml").write_text(
        f"""
channels:
  - {{id: hook, type: webhook, url: "{hook.url}/hook", secret: "${{HOOK_SECRET}}"}}
migrations:
  - id: busy
    kind: steps
    steps: {{count: 30, every: 0.1s}}
    schedule: {{interval: 1s}}
    overlap: skip
    notify_on_skip: true
    notify: [{{channel: hook, on: [failed]}}]
  - id: later
    kind: steps
    steps: {{count: 1}}
    schedule: {{start_at: "{start_at.isoformat()}"}}
    preflight: {{notify: 9s}}
    notify: [{{channel: hook, on: [starting_soon, completed]}}]
"""
    )
    try:
        assert moonshift(tmp_path, "apply", "m.yaml", env=ENV).returncode == 0

        def kinds() -> list[tuple[str, str]]:
            return [(r.json()["data"]["migration_id"], r.json()["type"]) for r in hook.on("/hook")]

        until(lambda: ("busy", "skipped") in kinds(), 60)
        until(lambda: ("later", "completed") in kinds(), 60)
        notice = [r.json() for r in hook.on("/hook") if r.json()["type"] == "starting_soon"]
        assert len(notice) == 1
        assert (
            notice[0]["data"]["summary"]
            == f"later: starting soon: starts at {start_at.isoformat()}"
        )
        assert kinds().index(("later", "starting_soon")) < kinds().index(("later", "completed"))
        status = json.loads(moonshift(tmp_path, "status", "later", "--json").stdout)
        assert [e["kind"] for e in reversed(status["events"])] == [
            "starting_soon",
            "started",
            "completed",
        ]
        busy = json.loads(moonshift(tmp_path, "status", "busy", "--json").stdout)
        assert "skipped" in [e["kind"] for e in busy["events"]]
        shown = moonshift(tmp_path, "status", "later").stdout
        assert "starting_soon: later: starting soon: starts at" in shown
    finally:
        moonshift(tmp_path, "daemon", "stop")
    log = json.loads(started.stdout)["log"]
    text = Path(log).read_text()
    assert f"starting_soon: later: starting soon: starts at {start_at.isoformat()}" in text
    assert "skipped: busy: skipped:" in text
