"""A week of cron schedules, windows, a dependency and an exclusion, played on a simulated
clock in seconds: the exact list of starts, pauses, resumes, skips and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.specfile import load_text
from tests.helpers import FakeClock
from tests.scheduler.sim import make_engine, simulate

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)

SPECS = """
- id: nightly
  kind: steps
  steps: {count: 8, every: 10m}
  schedule: {cron: "0 1 * * *"}
  windows: [{name: night, start: "00:30", end: "01:30"}]
  overlap: skip
- id: report
  kind: steps
  steps: {count: 1, every: 5m}
  schedule: {cron: "0 2 * * *"}
  depends_on: [{migration: nightly, condition: completed}]
  dependency_strategy: wait
  dependency_timeout: 12h
- id: vacuum
  kind: steps
  steps: {count: 1, every: 5m}
  schedule: {cron: "10 1 * * *"}
  exclude_concurrent: [{migration: nightly, reason: same disks}]
"""


def day_a(day: int) -> list[tuple[str, str, str]]:
    """nightly starts at 01:00 and pauses when its window closes; vacuum waits for it."""
    d = f"01-{5 + day:02d}"
    return [
        (f"{d} 01:00", "nightly", "start"),
        (f"{d} 01:30", "nightly", "pause"),
        (f"{d} 01:30", "vacuum", "start"),
        (f"{d} 01:35", "vacuum", "complete"),
        (f"{d} 14:00", "report", "fail"),  # its dependency is paused: 12h timeout
    ]


def day_b(day: int) -> list[tuple[str, str, str]]:
    """nightly resumes at the window's opening and finishes; the 01:00 fire is skipped."""
    d = f"01-{5 + day:02d}"
    return [
        (f"{d} 00:30", "nightly", "resume"),
        (f"{d} 01:00", "nightly", "skip"),
        (f"{d} 01:20", "nightly", "complete"),
        (f"{d} 01:20", "vacuum", "start"),
        (f"{d} 01:25", "vacuum", "complete"),
        (f"{d} 02:00", "report", "start"),
        (f"{d} 02:05", "report", "complete"),
    ]


def timeline(app: Moonshift) -> list[tuple[str, str, str]]:
    found = []
    for migration in ("nightly", "report", "vacuum"):
        for e in app.runs.history(migration, limit=10_000):
            kind = None
            if e.to_state == "running":
                kind = "resume" if e.from_state == "paused" else "start"
            elif e.to_state in ("paused", "completed", "failed"):
                kind = {"paused": "pause", "completed": "complete", "failed": "fail"}[e.to_state]
            elif e.action == "SCHEDULED skipped":
                kind = "skip"
            if kind:
                found.append((e.at.strftime("%m-%d %H:%M"), migration, kind))
    return sorted(found)


def test_a_simulated_week(app: Moonshift, clock: FakeClock, tmp_path: Path) -> None:
    clock.current = MONDAY
    for spec in load_text(SPECS):
        app.migrations.apply_spec(spec, actor="user:test")
    engine, launcher = make_engine(app.store, clock, tmp_path)
    ticks = simulate(engine, launcher, clock, MONDAY + timedelta(days=7))
    expected = sorted(
        event for day in range(7) for event in (day_a(day) if day % 2 == 0 else day_b(day))
    )
    assert timeline(app) == expected
    assert len(launcher.launched) == len(set(launcher.launched)) + 3  # 3 resumes of nightly runs
    nominal = [
        (r.migration_id, r.nominal_time, r.attempt)
        for m in ("nightly", "report", "vacuum")
        for r in app.runs.list(m, limit=100)
    ]
    assert len(nominal) == len(set(nominal))
    assert ticks < 2000  # it jumps from event to event instead of polling
