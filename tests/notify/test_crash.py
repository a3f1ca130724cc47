"""kill -9 of the daemon at random points between the outbox write and the delivery, ten
times: every event reaches every target, and each key once for a receiver that keeps keys."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from moonshift.domain.notices import targets
from moonshift.domain.spec import MigrationSpec
from moonshift.store import StateStore
from tests.helpers import moonshift
from tests.notify.receiver import Receiver
from tests.notify.test_outbox import ENV, SECRET
from tests.scheduler.test_daemon import until

KILLS = 10


def daemon(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    full.update(env)
    with (folder / "daemons.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "moonshift.cli", "daemon", "--poll", "0.1"],
            cwd=folder,
            env=full,
            stdout=log,
            stderr=log,
        )


@pytest.mark.slow
def test_kill_9_loses_no_notification_and_each_key_arrives_once(
    tmp_path: Path, hook: Receiver
) -> None:
    seed = int(os.environ.get("MOONSHIFT_CRASH_SEED") or random.randrange(2**32))
    print(f"crash seed {seed} (MOONSHIFT_CRASH_SEED={seed} repeats it)")
    rng = random.Random(seed)
    hook.delay = 0.05  # slow enough that kills land while a delivery is on its way
    (tmp_path / "m.yaml").write_text(
        f"""
channels:
  - {{id: hook, type: webhook, url: "{hook.url}/hook", secret: "${{HOOK_SECRET}}"}}
  - {{id: chat, type: slack, url: "{hook.url}/slack"}}
migrations:
  - id: tick
    kind: steps
    steps: {{count: 1, every: 0.05s}}
    schedule: {{interval: 1s}}
    notify:
      - {{channel: hook, on: [all]}}
      - {{channel: chat, on: [started, completed]}}
"""
    )
    env = {**ENV, "MOONSHIFT_LEASE_SECONDS": "2"}
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    store = StateStore.open(f"sqlite:///{tmp_path / '.moonshift' / 'state.db'}")
    for _ in range(KILLS):
        process = daemon(tmp_path, env)
        # a random point once it works (its start takes seconds on a loaded machine)
        until(
            lambda p=process: any(d.pid == p.pid for d in store.live_daemons(datetime.now(UTC))), 60
        )
        time.sleep(rng.uniform(0.2, 2.5))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert moonshift(tmp_path, "disable", "tick").returncode == 0
    last = daemon(tmp_path, env)
    try:

        def settled() -> bool:
            return (
                not store.working_runs()
                and not store.unrouted_events()
                and not store.pending_deliveries()
            )

        until(settled, 120)
        time.sleep(1)
        assert settled()  # nothing new came
        events = store.events_of("tick", limit=100_000)
        deliveries = store.deliveries_of([e.id for e in events if e.id is not None])
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(60)
        store.close()
    spec = MigrationSpec.model_validate(
        json.loads(moonshift(tmp_path, "show", "tick", "--json").stdout)["migration"]["spec"]
    )
    routed: dict[int, set[str]] = {}
    for d in deliveries:
        routed.setdefault(d.event_id, set()).add(d.channel_id)
    for event in events:
        assert routed.get(event.id or 0, set()) == set(targets(spec.notify, event.kind)), event
    assert {d.status for d in deliveries} == {"delivered"}
    expected = {d.key for d in deliveries}
    received = Counter(r.headers["webhook-id"] for r in hook.on("/hook"))
    received.update(r.json()["metadata"]["event_payload"]["key"] for r in hook.on("/slack"))
    assert set(received) == expected  # every event to every target, nothing else
    for request in hook.on("/hook"):
        Webhook(SECRET).verify(request.body, request.headers)
    repeats = sum(n - 1 for n in received.values())
    print(f"{len(events)} events, {len(expected)} deliveries, {repeats} sent again after a kill")
    assert repeats <= KILLS  # a kill repeats at most the delivery it interrupted
    assert len(events) > 3 * KILLS  # the daemons did work between the kills
