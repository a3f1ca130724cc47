"""A daemon stopped for an hour catches up by its misfire policy, and says what it dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.specfile import load_text
from tests.helpers import FakeClock
from tests.scheduler.sim import make_engine, simulate

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def setup(
    app: Moonshift, clock: FakeClock, policy: str, extra: str = "", grace: str = "15m"
) -> None:
    clock.current = START
    [spec] = load_text(
        "id: every10\nkind: steps\nsteps: {count: 1, every: 1m}\n"
        f"schedule: {{cron: '*/10 * * * *'}}\nmisfire: {{policy: {policy}, grace: {grace}{extra}}}\n"
    )
    app.migrations.apply_spec(spec, actor="user:test")


def outage(app: Moonshift, clock: FakeClock, tmp_path: Path) -> list[datetime]:
    """Run for 20 minutes, stop for an hour, run again for 5; returns the fires that ran."""
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, START + timedelta(minutes=20))
    clock.current = START + timedelta(minutes=80)  # the daemon was down
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, START + timedelta(minutes=85))
    return sorted(r.nominal_time for r in app.runs.list("every10", limit=100))


def dropped(app: Moonshift) -> list[str]:
    return sorted(e.reason or "" for e in app.store.get_events("every10") if e.outcome == "dropped")


def minutes(times: list[datetime]) -> list[int]:
    return [int((t - START).total_seconds() // 60) for t in times]


def test_latest_runs_the_fires_within_grace_and_drops_the_rest(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    setup(app, clock, "latest")
    assert minutes(outage(app, clock, tmp_path)) == [10, 70, 80]
    assert [r[:25] for r in dropped(app)] == [
        "2026-03-02T12:20:00+00:00",
        "2026-03-02T12:30:00+00:00",
        "2026-03-02T12:40:00+00:00",
        "2026-03-02T12:50:00+00:00",
        "2026-03-02T13:00:00+00:00",
    ]
    assert dropped(app)[0].endswith("missed by 1h (grace 15m); misfire policy latest")
    history = [e.action for e in app.runs.history("every10", limit=1000)]
    assert history.count("SCHEDULED dropped") == 5


def test_latest_runs_the_newest_when_every_fire_is_late(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    setup(app, clock, "latest", grace="5m")
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, START + timedelta(minutes=5))
    clock.current = START + timedelta(minutes=69)  # the 12:10 .. 13:00 fires are all late
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, START + timedelta(minutes=70))
    assert minutes(sorted(r.nominal_time for r in app.runs.list("every10"))) == [60]
    assert len(dropped(app)) == 5


def test_all_runs_every_missed_fire_up_to_max(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    setup(app, clock, "all", ", max: 4")
    assert minutes(outage(app, clock, tmp_path)) == [10, 50, 60, 70, 80]
    assert [r.split(": ", 1)[1] for r in dropped(app)] == [
        "missed by 1h; misfire max 4 reached",
        "missed by 50m; misfire max 4 reached",
        "missed by 40m; misfire max 4 reached",
    ]


def test_skip_runs_none_of_the_late_fires(app: Moonshift, clock: FakeClock, tmp_path: Path) -> None:
    setup(app, clock, "skip")
    assert minutes(outage(app, clock, tmp_path)) == [10, 70, 80]
    assert len(dropped(app)) == 5


@pytest.mark.parametrize("policy", ["latest", "all", "skip"])
def test_the_schedule_never_gives_up(
    app: Moonshift, clock: FakeClock, tmp_path: Path, policy: str
) -> None:
    setup(app, clock, policy)
    outage(app, clock, tmp_path)
    schedule = app.store.get_schedule("every10")
    assert schedule is not None
    assert schedule.next_fire_at == START + timedelta(minutes=90)
