"""The window forecast, checked against a simulated clock that plays the windows: the run
pauses as each window closes, resumes as the next opens, and ends where the plan said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.domain.forecast import forecast
from moonshift.domain.lifecycle import State
from moonshift.runtime.plans import plan_content
from moonshift.specfile import load_text
from tests.helpers import FakeClock
from tests.scheduler.sim import make_engine, simulate

SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 07:00 in New York
SPEC = """
id: nightly
kind: steps
steps: {count: 150, every: 1m}
schedule: {cron: "0 0 1 1 *", timezone: America/New_York}
windows: [{name: night, start: "01:00", end: "02:00"}]
"""


def test_a_run_needing_three_windows_finishes_in_the_third(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    clock.current = SATURDAY
    for spec in load_text(SPEC):
        app.migrations.apply_spec(spec, actor="user:test")
    plan = app.plans.plan("nightly", actor="user:test")
    assert plan.estimate == {"seconds": 9000.0}
    assert plan.forecast is not None
    assert plan.forecast["text"] == "needs 3 windows; finishes Tue 2026-12-01 01:30 EST"
    engine, launcher = make_engine(app.store, clock, tmp_path)
    clock.current = SATURDAY + timedelta(hours=18)  # Sunday 01:00, as the first window opens
    run = app.runs.run_now("nightly", actor="user:test")
    simulate(engine, launcher, clock, SATURDAY + timedelta(days=5))
    done = app.runs.get(run.id)
    assert done.state is State.COMPLETED
    assert done.ended_at == datetime.fromisoformat(plan.forecast["finishes_at"])
    paused = [e for e in app.runs.history("nightly", limit=1000) if e.to_state == "paused"]
    assert len(paused) == 2  # two windows closed on it: it ran in three


def test_a_forecast_without_windows_runs_at_once_and_one_that_never_opens_says_so() -> None:
    found = forecast(timedelta(minutes=90), SATURDAY, None, "Europe/Paris")
    assert found is not None and found.text == "runs at once; finishes Sat 2026-11-28 14:30 CET"
    assert found.windows == 0


def test_a_table_estimated_longer_than_its_windows_is_a_risk() -> None:
    [spec] = load_text(SPEC)
    estimate = {"seconds": 7300.0, "tables": [{"table": "big", "seconds": 7200.0}]}
    content = plan_content(spec, {"estimate": estimate}, now=SATURDAY)
    [risk] = content["risks"]
    assert (risk["rule"], risk["subject"], risk["severity"]) == (
        "table-too-large-for-window",
        "big",
        "high",
    )
    assert "2h" in risk["message"] and "1h" in risk["message"]
    small = {"seconds": 60.0, "tables": [{"table": "big", "seconds": 60.0}]}
    assert plan_content(spec, {"estimate": small}, now=SATURDAY)["risks"] == []
