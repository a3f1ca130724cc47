"""Scheduler throughput and lateness, against APScheduler 3 in the same run.

(a) 10,000 migrations due at one instant: seconds until every one has a started run (handed
    to a worker), on SQLite and PostgreSQL, beside APScheduler 3 with its SQLAlchemy job store
    on SQLite starting 10,000 due jobs. Both measure the scheduler, not the work: our runs go
    to a launcher that only records them, APScheduler's jobs to a function that only counts.
(b) 100,000 enabled schedules with nothing due: the engine's CPU seconds over --idle seconds.
(c) start lateness (start minus nominal time) p50 and p99 under a steady 1,000 fires a minute.

    make bench        # or: .venv/bin/python bench/scheduler.py [--due 10000] [--idle 60]
"""

from __future__ import annotations

import argparse
import statistics
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

    def running(self) -> set[int]:
        return set()

    def finished(self) -> list[tuple[int, int]]:
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


def fresh_store(kind: str) -> tuple[StateStore, Any]:
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="moonshift-bench-"))
        return StateStore.open(f"sqlite:///{folder / 'state.db'}"), None
    name = f"moonshift_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return StateStore.open(f"postgresql://postgres@127.0.0.1:5432/{name}"), name


def drop(store: StateStore, pg_name: str | None) -> None:
    store.close()
    if pg_name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


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
        due = datetime.now(UTC) + timedelta(seconds=2)
        seed(
            store,
            count,
            due,
            {"kind": "steps", "steps": {"count": 1}, "schedule": {"interval": "1d"}},
        )
        launcher = RecordingLauncher()
        engine = engine_for(store, launcher, count)
        engine.tick()  # loads the heap before the due instant, as a running daemon has
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


def burst_apscheduler(count: int) -> float:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    folder = Path(tempfile.mkdtemp(prefix="aps-bench-"))
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{folder / 'jobs.db'}")},
        executors={"default": ThreadPoolExecutor(20)},
        job_defaults={"misfire_grace_time": 3600, "coalesce": False},
        timezone="UTC",
    )
    scheduler.start(paused=True)
    due = datetime.now(UTC) + timedelta(seconds=1)
    for i in range(count):
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
    return elapsed


def idle_cpu(count: int, seconds: float) -> tuple[float, float]:
    """CPU seconds of an engine loop over ``seconds`` with ``count`` schedules, none due."""
    store, pg_name = fresh_store("sqlite")
    try:
        seed(
            store,
            count,
            datetime.now(UTC) + timedelta(days=30),
            {"kind": "steps", "steps": {"count": 1}, "schedule": {"interval": "30d"}},
        )
        engine = engine_for(store, RecordingLauncher(), 4)
        engine.config = SchedulerConfig(poll_seconds=1.0)
        started = time.process_time()
        engine.tick()
        load = time.process_time() - started
        stop = threading.Event()
        thread = threading.Thread(target=loop, args=(engine, stop, 1.0))
        cpu0 = time.process_time()
        thread.start()
        time.sleep(seconds)
        stop.set()
        thread.join()
        return load, time.process_time() - cpu0
    finally:
        drop(store, pg_name)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--due", type=int, default=10_000, help="migrations due at once (a)")
    parser.add_argument("--idle", type=float, default=60, help="seconds of idling to measure (b)")
    parser.add_argument("--idle-schedules", type=int, default=100_000)
    parser.add_argument(
        "--steady-minutes", type=float, default=2.0, help="minutes of steady fires (c)"
    )
    args = parser.parse_args()
    print(f"(a) {args.due:,} migrations due at one instant: seconds until every one started")
    aps = burst_apscheduler(args.due)
    ours_sqlite = burst_moonshift("sqlite", args.due)
    ours_pg = burst_moonshift("postgres", args.due)
    print(f"    APScheduler 3 (SQLAlchemy job store, SQLite)  {aps:8.2f} s")
    for name, ours in (("SQLite", ours_sqlite), ("PostgreSQL", ours_pg)):
        print(f"    moonshift, {name:<35}{ours:8.2f} s   APScheduler / moonshift: {aps / ours:.2f}")
    load, cpu = idle_cpu(args.idle_schedules, args.idle)
    share = 100 * cpu / args.idle
    print(
        f"(b) {args.idle_schedules:,} schedules, none due: {cpu:.2f} CPU s over {args.idle:.0f} s "
        f"({share:.2f}% of a core); loading them: {load:.2f} CPU s"
    )
    p50, p99, n = lateness(1000, args.steady_minutes)
    print(
        f"(c) 1,000 fires a minute for {args.steady_minutes:g} min ({n} starts): "
        f"lateness p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
