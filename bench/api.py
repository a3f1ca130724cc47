"""REST API latency: p50 and p99 of listing, showing and reading the progress of migrations,
with 1,000 of them in the state store, beside a bare endpoint (/healthz) of the same server
measured in the same run (the floor: HTTP, uvicorn and the client). The goal is a p99 under
50 ms on this machine. Then the progress stream: from a progress write in the store to its
server-sent event (the goal: within a second).

    make bench            # or: .venv/bin/python bench/api.py [--migrations 1000] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from moonshift.app import Moonshift, Settings
from moonshift.domain.progress import Progress, TableProgress
from moonshift.domain.spec import MigrationSpec
from moonshift.store.records import Trigger


def populate(app: Moonshift, count: int) -> str:
    """``count`` copy migrations; the last has a run with progress. Returns its id."""
    for i in range(count):
        spec = MigrationSpec.model_validate(
            {
                "id": f"copy-{i:05d}",
                "kind": "copy",
                "source": {"url": f"sqlite:///source-{i}.db"},
                "target": {"url": f"sqlite:///target-{i}.db"},
                "schedule": {"cron": f"{i % 60} 2 * * *", "timezone": "America/New_York"},
            }
        )
        app.migrations.apply_spec(spec, actor="bench")
    last = f"copy-{count - 1:05d}"
    now = datetime.now(UTC)
    run = app.store.create_run(
        last, trigger=Trigger.MANUAL, nominal_time=now, actor="bench", now=now
    )
    tables = {
        f"t{n}": TableProgress(state="copying", rows=500 * n, total=10_000) for n in range(20)
    }
    app.store.update_run(run.id, now=now, progress=Progress(tables=tables))
    return last


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(state_url: str, home: str) -> Iterator[str]:
    """``moonshift serve`` on a free port, until the block ends; yields its base URL."""
    port = free_port()
    env = {**os.environ, "MOONSHIFT_STATE": state_url, "MOONSHIFT_HOME": home}
    server = subprocess.Popen(
        [sys.executable, "-m", "moonshift.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def timings(client: httpx.Client, path: str, count: int) -> list[float]:
    client.get(path).raise_for_status()  # warm
    found = []
    for _ in range(count):
        began = time.perf_counter()
        client.get(path).raise_for_status()
        found.append((time.perf_counter() - began) * 1000)
    return found


def stream_delays(base: str, key: str, state_url: str, migration: str, updates: int) -> list[float]:
    """Milliseconds from a progress write in the store to its event on the SSE stream."""
    app = Moonshift(Settings(state_url=state_url, home=Path(tempfile.gettempdir())), environ={})
    run = app.store.list_runs(migration, limit=1)[0]
    written: dict[int, float] = {}
    delays: list[float] = []
    url = f"{base}/v1/migrations/{migration}/progress/stream?timeout=120"
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as events:
        lines = events.iter_lines()

        def next_rows() -> int:
            for line in lines:
                if line.startswith("data: "):
                    return int(json.loads(line[6:])["progress"]["tables"]["t0"]["rows"])
            raise RuntimeError("the stream ended")

        next_rows()  # the current state, sent at once
        for n in range(1, updates + 1):
            tables = {"t0": TableProgress(state="copying", rows=n, total=updates)}
            written[n] = time.perf_counter()
            app.store.update_run(run.id, now=datetime.now(UTC), progress=Progress(tables=tables))
            while (rows := next_rows()) != n:
                pass
            delays.append((time.perf_counter() - written[rows]) * 1000)
            time.sleep(0.05)
    app.close()
    return delays


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300, help="per endpoint")
    parser.add_argument("--stream-updates", type=int, default=30, help="progress writes streamed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home)
        app = Moonshift(settings, environ={})
        began = time.perf_counter()
        busy = populate(app, args.migrations)
        key = app.keys.create("bench", "read", actor="bench").key
        app.close()
        print(f"{args.migrations} migrations stored in {time.perf_counter() - began:.1f} s")
        with serving(settings.state_url, folder) as base:
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                paths = {
                    "bare (/healthz)": "/healthz",
                    "list (100 a page)": "/v1/migrations?limit=100",
                    "list (all 1000)": "/v1/migrations?limit=1000",
                    "show": f"/v1/migrations/{busy}",
                    "progress": f"/v1/migrations/{busy}/progress",
                }
                print(f"{'endpoint':<20} {'p50 ms':>8} {'p99 ms':>8} {'p99 / bare':>11}")
                bare = 0.0
                for name, path in paths.items():
                    found = timings(client, path, args.requests)
                    p50, p99 = percentile(found, 0.50), percentile(found, 0.99)
                    bare = bare or p99
                    print(f"{name:<20} {p50:>8.1f} {p99:>8.1f} {p99 / bare:>10.1f}x")
            found = stream_delays(base, key, settings.state_url, busy, args.stream_updates)
            p50, p99 = percentile(found, 0.50), percentile(found, 0.99)
            print(f"{'stream (write->event)':<20} {p50:>7.1f} {p99:>8.1f}   goal: under 1000 ms")


if __name__ == "__main__":
    main()
