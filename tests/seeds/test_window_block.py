"""The maintenance-window block as other schedulers' docs write it, played by the real engine
on a simulated clock: the run keeps to the windows as the docs' "how it works" tells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from moonshift.app import Moonshift
from moonshift.specfile import load_text
from tests.helpers import FakeClock
from tests.scheduler.sim import make_engine, simulate
from tests.seeds.test_nested_schedule import WINDOWS

NEW_YORK = ZoneInfo("America/New_York")
SPEC = """
id: bulk
kind: steps
steps: {count: 2, every: 1h}
"""
START = '\n  start_at: "2026-01-11T23:00:00"\n  timezone: America/New_York'


def timeline(app: Moonshift) -> list[tuple[str, str]]:
    found = []
    for e in app.runs.history("bulk", limit=1000):
        if e.to_state in ("running", "paused", "completed"):
            kind = "resume" if e.from_state == "paused" else e.to_state
            found.append((e.at.astimezone(NEW_YORK).strftime("%a %H:%M"), kind))
    warnings = [e for e in app.schedules.events("bulk") if e.event_type == "window_ending"]
    found += [(e.at.astimezone(NEW_YORK).strftime("%a %H:%M"), "warned") for e in warnings]
    return sorted(found, key=lambda item: (item[0][:3] != "Sun", item[0]))


def test_the_window_block_pauses_and_resumes_a_run(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    """Started Sunday 23:00, warned at 23:30, paused when the weekend closes at midnight,
    resumed when the weekday window opens on Monday at 22:00, and done an hour later."""
    clock.current = datetime(2026, 1, 11, 12, tzinfo=NEW_YORK).astimezone(UTC)  # a Sunday
    [spec] = load_text(SPEC + WINDOWS.replace("\nschedule:", "\nschedule:" + START, 1))
    app.migrations.apply_spec(spec, actor="user:test")
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, clock.now() + timedelta(days=2))
    assert timeline(app) == [
        ("Sun 23:00", "running"),
        ("Sun 23:30", "warned"),
        ("Mon 00:00", "paused"),
        ("Mon 22:00", "resume"),
        ("Mon 23:00", "completed"),
    ]
