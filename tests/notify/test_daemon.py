"""Notifications from a real daemon: a failing run's event reaches a real receiver once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from tests.helpers import moonshift
from tests.notify.receiver import receiver
from tests.notify.test_outbox import ENV, SECRET
from tests.scheduler.test_daemon import until


def test_a_failing_run_sends_one_signed_webhook_from_the_daemon(tmp_path: Path) -> None:
    with receiver() as hook:
        (tmp_path / "m.yaml").write_text(
            f"""
channels:
  - id: hook
    type: webhook
    url: {hook.url}/hook
    secret: ${{HOOK_SECRET}}
migrations:
  - id: broken
    kind: command
    command: "exit 3"
    notify: [{{channel: hook, on: [failed]}}]
"""
        )
        assert moonshift(tmp_path, "apply", "m.yaml", env=ENV).returncode == 0
        started = moonshift(tmp_path, "daemon", "--detach", "--poll", "0.1", "--json", env=ENV)
        assert started.returncode == 0, started.stderr
        try:
            assert moonshift(tmp_path, "start", "broken").returncode == 0
            [request] = until(lambda: hook.on("/hook"), 60)
            payload = Webhook(SECRET).verify(request.body, request.headers)
            assert payload["type"] == "failed"
            assert "exit status 3" in payload["data"]["summary"]
            time.sleep(1.5)  # a second delivery would have come by now
            assert len(hook.on("/hook")) == 1
            log = json.loads(moonshift(tmp_path, "notifications", "broken", "--json").stdout)
            delivered = [(d["channel"], d["status"]) for e in log for d in e["deliveries"]]
            assert delivered == [("hook", "delivered")]
        finally:
            moonshift(tmp_path, "daemon", "stop")
