"""Scheduler throughput and idle cost, against APScheduler 3 in the same run.

(a) 10,000 migrations due at one instant: seconds from that instant until every one has a
    started run: created in the store (with its audit entry and outbox event), claimed for a
    worker by a lease, and handed to the launcher. On SQLite and on PostgreSQL, each beside
    APScheduler 3 with its durable SQLAlchemy job store on the same database starting 10,000
    due jobs. Both measure the scheduler, not the work: our launcher only records the hand-over,
    APScheduler's job only counts. Repeated --runs times; the median is shown.
(b) 100,000 enabled schedules with nothing due: CPU of a real `moonshift daemon` process over
    --idle seconds (from /proc), on each store.
(c) start lateness (start minus nominal time) p50 and p99 under a steady 1,000 fires a minute.

    make bench        # or: .venv/bin/python bench/scheduler.py [--due 10000] [--runs 3] [--idle 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert

from moonshift.clock import SystemClock
from moonshift.domain.lifecycle import State
from moonshift.engine.loop import Engine, SchedulerConfig
from moonshift.store import StateStore
from moonshift.store import schema as t
from moonshift.store.records import ScheduleStatus

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
STORES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


class RecordingLauncher:
    """Hands nothing to a process: records when each run was handed over."""

    def __init__(self, store: StateStore | None = None, *, finish: bool = False) -> None:
        self.started: dict[int, float] = {}
        self.store, self.finish = store, finish

    def launch(self, run_id: int, owner: str) -> int:
        self.started[run_id] = time.time()
        if self.finish and self.store is not None:  # the run ends at once (steady-state test)
            now = datetime.now(UTC)
            for state in (
                State.ANALYZING,
                State.PLANNING,
                State.AWAITING_APPROVAL,
                State.APPROVED,
                State.RUNNING,
                State.COMPLETED,
            ):
                self.store.transition_run(run_id, state, actor="bench", now=now, lease_owner=None)
        return 0

    def launch_helper(self, run_id: int, owner: str) -> int:
        return 0

    def running(self) -> set[int]:
        return set()

    def end(self, run_id: int) -> bool:
        return True  # nothing was handed to a process

    def finished(self) -> list[tuple[int, int, int]]:
        return []


def seed(
    store: StateStore,
    count: int,
    first_fire: datetime,
    spec: dict[str, Any],
    step: timedelta = timedelta(0),
) -> None:
    """Insert ``count`` migrations and their schedules in bulk (setup, not measured)."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        for offset in range(0, count, 5000):
            ids = [f"m{i:06d}" for i in range(offset, min(count, offset + 5000))]
            conn.execute(
                insert(t.migrations),
                [
                    {
                        "id": i,
                        "name": i,
                        "description": "",
                        "kind": "steps",
                        "enabled": True,
                        "tags": [],
                        "spec": {**spec, "id": i},
                        "spec_hash": "x",
                        "version": 1,
                        "source_file": None,
                        "created_at": now,
                        "updated_at": now,
                        "deleted_at": None,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(t.schedules),
                [
                    {
                        "migration_id": i,
                        "status": ScheduleStatus.ACTIVE.value,
                        "next_fire_at": first_fire + step * (offset + n),
                        "last_fire_at": None,
                        "spec_version": 1,
                        "updated_at": now,
                    }
                    for n, i in enumerate(ids)
                ],
            )


def fresh_url(kind: str) -> tuple[str, str | None]:
    """A new empty database: its URL, and its name on PostgreSQL (to drop it after)."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="moonshift-bench-"))
        return f"sqlite:///{folder / 'state.db'}", None
    name = f"moonshift_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def fresh_store(kind: str) -> tuple[StateStore, Any]:
    url, pg_name = fresh_url(kind)
    return StateStore.open(url), pg_name


def drop_database(pg_name: str | None) -> None:
    if pg_name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


def drop(store: StateStore, pg_name: str | None) -> None:
    store.close()
    drop_database(pg_name)


def engine_for(store: StateStore, launcher: RecordingLauncher, max_runs: int) -> Engine:
    config = SchedulerConfig(
        max_concurrent_runs=max_runs, poll_seconds=0.05, check_interval_seconds=1
    )
    return Engine(
        store, SystemClock(), launcher, config, daemon_id="bench", home=Path(tempfile.mkdtemp())
    )


def loop(engine: Engine, stop: threading.Event, poll: float = 0.05) -> None:
    while not stop.is_set():
        wake = engine.tick()
        stop.wait(max(0.0, min(poll, (wake - datetime.now(UTC)).total_seconds())))


def burst_moonshift(kind: str, count: int) -> float:
    store, pg_name = fresh_store(kind)
    try:
        spec = {"kind": "steps", "steps": {"count": 1}, "schedule": {"interval": "1d"}}
        seed(store, count, datetime.now(UTC) + timedelta(days=1), spec)
        launcher = RecordingLauncher()
        engine = engine_for(store, launcher, count)
        engine.tick()  # loads the heap before the due instant, as a running daemon has
        due = datetime.now(UTC) + timedelta(seconds=2)  # however long seeding took
        with store.engine.begin() as conn:
            conn.execute(
                t.schedules.update().values(next_fire_at=due, updated_at=datetime.now(UTC))
            )
        engine.tick()  # sees the schedules move, as a running daemon would
        while datetime.now(UTC) < due:
            time.sleep(0.01)
        began = time.time()
        while len(launcher.started) < count:
            engine.tick()
            if time.time() - began > 900:
                raise RuntimeError(f"only {len(launcher.started)} of {count} started in 900 s")
        return max(launcher.started.values()) - began
    finally:
        drop(store, pg_name)


_aps_done: list[float] = []


def aps_job() -> None:
    _aps_done.append(time.time())


def burst_apscheduler(kind: str, count: int) -> float:
    url, pg_name = fresh_url(kind)
    try:
        return _burst_apscheduler(url.replace("postgresql://", "postgresql+psycopg://"), count)
    finally:
        drop_database(pg_name)


def _burst_apscheduler(url: str, count: int) -> float:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(20)},
        job_defaults={"misfire_grace_time": 3600, "coalesce": False},
        timezone="UTC",
    )
    scheduler.start(paused=True)
    due = datetime.now(UTC) + timedelta(seconds=1)
    for i in range(count):  # paused: those due while adding wait for the resume
        scheduler.add_job(aps_job, "date", run_date=due, id=f"j{i}")
    while datetime.now(UTC) < due:
        time.sleep(0.01)
    _aps_done.clear()
    began = time.time()
    scheduler.resume()
    while len(_aps_done) < count:
        time.sleep(0.01)
        if time.time() - began > 900:
            raise RuntimeError(f"APScheduler ran only {len(_aps_done)} of {count} in 900 s")
    elapsed = max(_aps_done) - began
    scheduler.shutdown(wait=False)
    store.engine.dispose()
    return elapsed


def idle_daemon(kind: str, count: int, seconds: float) -> subprocess.Popen[bytes]:
    """A `moonshift daemon` process on a new store of ``count`` schedules, none due for 30
    days, once it has loaded them (its CPU has settled)."""
    store, pg_name = fresh_store(kind)
    spec = {"kind": "steps", "steps": {"count": 1}, "schedule": {"interval": "30d"}}
    seed(store, count, datetime.now(UTC) + timedelta(days=30), spec)
    url = store.url if pg_name is None else f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    store.close()
    home = Path(tempfile.mkdtemp(prefix="moonshift-idle-"))
    env = {**os.environ, "MOONSHIFT_STATE": url, "MOONSHIFT_HOME": str(home)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "moonshift.cli", "daemon"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    daemon.pg_name = pg_name  # type: ignore[attr-defined]
    return daemon


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled(daemons: list[subprocess.Popen[bytes]], timeout: float = 600) -> None:
    """Wait until each daemon has spent under 5% of a core for 3 s in a row (start-up done)."""
    deadline = time.time() + timeout
    for daemon in daemons:
        while time.time() < deadline:
            before = cpu_seconds(daemon.pid)
            time.sleep(3)
            if cpu_seconds(daemon.pid) - before < 0.15:
                break


def idle_cpu(count: int, seconds: float) -> dict[str, float]:
    """Percent of a core each store's daemon spends over ``seconds``, ``count`` schedules."""
    daemons = {kind: idle_daemon(kind, count, seconds) for kind in STORES}
    try:
        settled(list(daemons.values()))
        before = {kind: cpu_seconds(d.pid) for kind, d in daemons.items()}
        time.sleep(seconds)
        return {
            kind: 100 * (cpu_seconds(d.pid) - before[kind]) / seconds for kind, d in daemons.items()
        }
    finally:
        for daemon in daemons.values():
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=120)
            drop_database(daemon.pg_name)  # type: ignore[attr-defined]


def lateness(fires_per_minute: int, minutes: float) -> tuple[float, float, int]:
    """p50 and p99 of start minus nominal time, in ms, under a steady stream of fires."""
    store, pg_name = fresh_store("sqlite")
    try:
        first = datetime.now(UTC) + timedelta(seconds=2)
        step = timedelta(seconds=60 / fires_per_minute)
        seed(
            store,
            fires_per_minute,
            first,
            {"kind": "steps", "steps": {"count": 1}, "schedule": {"interval": "60s"}},
            step,
        )
        # each schedule fires every 60 s from its own offset: fires_per_minute spread evenly
        with store.engine.begin() as conn:
            for n in range(fires_per_minute):
                anchor = (first + step * n).isoformat()
                conn.execute(
                    t.migrations.update()
                    .where(t.migrations.c.id == f"m{n:06d}")
                    .values(
                        spec={
                            "id": f"m{n:06d}",
                            "kind": "steps",
                            "steps": {"count": 1},
                            "schedule": {"interval": "60s", "anchor": anchor},
                        }
                    )
                )
        launcher = RecordingLauncher(store, finish=True)
        engine = engine_for(store, launcher, 1000)
        stop = threading.Event()
        thread = threading.Thread(target=loop, args=(engine, stop))
        thread.start()
        time.sleep(2 + minutes * 60)
        stop.set()
        thread.join()
        late = []
        for run_id, started in launcher.started.items():
            nominal = store.get_run(run_id).nominal_time.timestamp()
            late.append((started - nominal) * 1000)
        late.sort()
        return statistics.median(late), late[int(len(late) * 0.99)], len(late)
    finally:
        drop(store, pg_name)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--due", type=int, default=10_000, help="(a) migrations due at one instant")
    parser.add_argument(
        "--runs", type=int, default=1, help="(a) times the burst runs; the median is shown"
    )
    parser.add_argument(
        "--idle", type=float, default=60, help="(b) seconds of the idle daemon's CPU measured"
    )
    parser.add_argument(
        "--idle-schedules",
        type=int,
        default=100_000,
        help="(b) enabled schedules, none of them due, while the idle CPU is measured",
    )
    parser.add_argument(
        "--steady-minutes",
        type=float,
        default=1.0,
        help="(c) minutes of a steady 1,000 fires a minute",
    )
    args = parser.parse_args()
    print(f"load average at the start: {load_average()} ({os.cpu_count()} cores)", flush=True)
    ours: dict[str, list[float]] = {kind: [] for kind in STORES}
    theirs: dict[str, list[float]] = {kind: [] for kind in STORES}
    for _ in range(args.runs):
        for kind in STORES:
            ours[kind].append(burst_moonshift(kind, args.due))
            theirs[kind].append(burst_apscheduler(kind, args.due))
    idle = idle_cpu(args.idle_schedules, args.idle)
    print(
        f"\n(a) {args.due:,} migrations due at one instant: seconds until every one started "
        f"(median of {args.runs}); (b) a daemon's CPU with {args.idle_schedules:,} schedules, "
        f"none due, over {args.idle:g} s\n"
    )
    print("| state store | moonshift | APScheduler 3 (SQLAlchemyJobStore) | ratio | idle CPU |")
    print("|---|---|---|---|---|")
    for kind, name in STORES.items():
        mine, aps = statistics.median(ours[kind]), statistics.median(theirs[kind])
        spread = ", ".join(f"{x:.2f}" for x in ours[kind])
        print(
            f"| {name} | {mine:.2f} s ({spread}) | {aps:.2f} s | {aps / mine:.1f}x "
            f"| {idle[kind]:.2f}% of a core |"
        )
    p50, p99, n = lateness(1000, args.steady_minutes)
    print(
        f"\n(c) 1,000 fires a minute for {args.steady_minutes:g} min ({n} starts), SQLite: "
        f"lateness p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    print(f"load average at the end: {load_average()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
