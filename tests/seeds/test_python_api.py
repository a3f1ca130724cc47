"""The scheduler API's code samples, each run as written (only the import lines name
moonshift), in a scheduler whose loop runs in this process against SQLite."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moonshift.errors import InvalidInput
from moonshift.scheduler import (
    AssetGraph,
    CronSchedule,
    EventTrigger,
    Schedule,
    Scheduler,
    ScheduleStatus,
    ScheduleType,
    TriggerEvent,
    TriggerType,
)

CREATING = """
from vibe_piper import Scheduler, SchedulerConfig
from vibe_piper.types import AssetGraph

# Create scheduler with custom config
config = SchedulerConfig(
    check_interval_seconds=30,  # Check every 30 seconds
    max_concurrent_runs=3,      # Max 3 concurrent pipeline runs
    timezone="UTC",              # Default timezone
)

scheduler = Scheduler(config=config)

# Start the scheduler
scheduler.start()
"""

CRON = """
from vibe_piper import Schedule, ScheduleType, CronSchedule
from vibe_piper.types import AssetGraph

# Create a daily schedule
schedule = Schedule(
    schedule_id="daily_report",
    name="Daily Report",
    schedule_type=ScheduleType.CRON,
    schedule_definition=CronSchedule(
        cron_expression="0 9 * * *",  # 9 AM daily
        description="Generate daily report at 9 AM",
    ),
    asset_graph=AssetGraph(name="report_pipeline"),
    timezone="America/New_York",
)

scheduler.add_schedule(schedule)
"""

INTERVAL = """
from vibe_piper import Schedule, ScheduleType, IntervalSchedule

# Create an hourly schedule
schedule = Schedule(
    schedule_id="hourly_sync",
    name="Hourly Data Sync",
    schedule_type=ScheduleType.INTERVAL,
    schedule_definition=IntervalSchedule(
        interval="1h",
        description="Sync data every hour",
    ),
    asset_graph=AssetGraph(name="sync_pipeline"),
    timezone="UTC",
)

scheduler.add_schedule(schedule)
"""

EVENT = """
from vibe_piper import Schedule, ScheduleType, EventTrigger

# Create an event-driven schedule
schedule = Schedule(
    schedule_id="data_arrival",
    name="Process New Data",
    schedule_type=ScheduleType.EVENT,
    schedule_definition=EventTrigger(
        event_type="data_available",
        debounce_seconds=60,  # Don't trigger more than once per minute
        description="Process data when new data arrives",
    ),
    asset_graph=AssetGraph(name="process_pipeline"),
    timezone="UTC",
)

scheduler.add_schedule(schedule)

# Trigger the event
from vibe_piper import TriggerEvent

event = TriggerEvent(
    event_type="data_available",
    event_data={"source": "s3", "bucket": "my-bucket"},
    source="external",
)

scheduler.trigger_event(event)
"""

MANAGING = """
# List all schedules
schedules = scheduler.list_schedules()

# List only active schedules
active_schedules = scheduler.list_schedules(status=ScheduleStatus.ACTIVE)

# Pause a schedule
scheduler.pause_schedule("daily_report")

# Resume a schedule
scheduler.resume_schedule("daily_report")

# Delete a schedule
scheduler.delete_schedule("daily_report")
"""

BACKFILL = """
from datetime import datetime

# Create a backfill
backfill = scheduler.create_backfill(
    schedule_id="daily_report",
    start_date=datetime(2024, 1, 1),  # January 1, 2024
    end_date=datetime(2024, 1, 31),   # January 31, 2024
    timezone="UTC",
    parallel=True,      # Run tasks in parallel
    max_parallel=5,   # Up to 5 concurrent tasks
)

# Execute the backfill
result = scheduler.execute_backfill(backfill.backfill_id)

print(f"Backfill completed: {result.tasks_succeeded} succeeded, {result.tasks_failed} failed")
"""

TIMEZONE = """
schedule = Schedule(
    schedule_id="report",
    schedule_type=ScheduleType.CRON,
    schedule_definition=CronSchedule(cron_expression="0 9 * * *"),
    asset_graph=AssetGraph(name="report_pipeline"),
    timezone="America/New_York",  # Schedule in Eastern Time
)
"""

HISTORY = """
# Get events for a specific schedule
events = scheduler.store.get_events(schedule_id="daily_report", limit=100)

# Get the last event for a schedule
last_event = scheduler.store.get_last_event("daily_report")
"""

NEW_YORK = ZoneInfo("America/New_York")


def run(sample: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run a sample as written; only its import lines name moonshift's module."""
    code = re.sub(r"from vibe_piper(\.types)? import", "from moonshift.scheduler import", sample)
    exec(compile(textwrap.dedent(code), "<sample>", "exec"), namespace)
    return namespace


@pytest.fixture
def samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The first sample's scheduler: its state under ./.moonshift, as the CLI's."""
    monkeypatch.chdir(tmp_path)
    for name in ("MOONSHIFT_STATE", "MOONSHIFT_HOME"):
        monkeypatch.delenv(name, raising=False)
    namespace = run(CREATING, {"ScheduleStatus": ScheduleStatus})
    yield namespace
    namespace["scheduler"].stop()


def next_fire(scheduler: Scheduler, schedule_id: str) -> datetime:
    found = scheduler.get_schedule(schedule_id)
    assert found is not None and found.next_fire_at is not None
    return found.next_fire_at


def test_schedules_events_and_their_management(samples: dict[str, Any]) -> None:
    scheduler: Scheduler = samples["scheduler"]
    assert scheduler.is_running()

    run(CRON, samples)
    assert Path(".moonshift/state.db").exists()
    due = next_fire(scheduler, "daily_report").astimezone(NEW_YORK)
    assert (due.hour, due.minute) == (9, 0)
    spec = scheduler.app.migrations.spec("daily_report")
    assert (spec.name, spec.description) == ("Daily Report", "Generate daily report at 9 AM")

    run(INTERVAL, samples)
    hourly = next_fire(scheduler, "hourly_sync") - datetime.now(UTC)
    assert timedelta(0) < hourly <= timedelta(hours=1)

    run(EVENT, samples)
    [started] = scheduler.store.get_events(schedule_id="data_arrival", limit=10)
    assert (started.outcome, started.event_type) == ("started", "data_available")
    assert started.payload == {"source": "s3", "bucket": "my-bucket"}
    [pending] = scheduler.app.runs.list("data_arrival", limit=10)
    assert pending.trigger is TriggerType.EVENT
    reasons = [e.reason for e in scheduler.app.runs.history("data_arrival")]
    assert "event data_available from external" in reasons
    scheduler.trigger_event(samples["event"])  # within the minute: folded into that run
    assert scheduler.store.get_last_event("data_arrival").outcome == "debounced"
    assert len(scheduler.app.runs.list("data_arrival", limit=10)) == 1

    run(MANAGING, samples)
    assert {s.migration_id for s in samples["schedules"]} == {
        "daily_report",
        "hourly_sync",
        "data_arrival",
    }
    assert {s.status for s in samples["active_schedules"]} == {ScheduleStatus.ACTIVE}
    assert scheduler.get_schedule("daily_report") is None
    outcomes = [e.outcome for e in scheduler.store.get_events("daily_report")]
    assert outcomes[:2] == ["resumed", "paused"]

    run(TIMEZONE, samples)
    scheduler.add_schedule(samples["schedule"])
    assert next_fire(scheduler, "report").astimezone(NEW_YORK).hour == 9


def test_a_backfill_and_the_event_history(
    samples: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run(CRON, samples)
    capsys.readouterr()
    run(BACKFILL, samples)
    assert capsys.readouterr().out == "Backfill completed: 31 succeeded, 0 failed\n"
    scheduler: Scheduler = samples["scheduler"]
    runs = scheduler.app.runs.list("daily_report", limit=100)
    assert {r.trigger for r in runs} == {TriggerType.BACKFILL}
    assert sorted(r.logical_date.date().day for r in runs if r.logical_date) == list(range(1, 32))
    # a 9 AM New York fire each day of January, the range read in UTC
    assert {r.logical_date.astimezone(NEW_YORK).hour for r in runs if r.logical_date} == {9}

    scheduler.pause_schedule("daily_report")
    run(HISTORY, samples)
    assert samples["last_event"].outcome == "paused"
    assert samples["events"][0] == samples["last_event"]


def test_backfill_limits(samples: dict[str, Any]) -> None:
    scheduler: Scheduler = samples["scheduler"]
    run(EVENT, samples)
    with pytest.raises(InvalidInput, match="event and immediate schedules cannot be backfilled"):
        scheduler.create_backfill("data_arrival", datetime(2024, 1, 1), datetime(2024, 1, 2))
    every_minute = Schedule(
        schedule_id="minutely",
        schedule_type=ScheduleType.CRON,
        schedule_definition=CronSchedule(cron_expression="* * * * *"),
    )
    scheduler.add_schedule(every_minute)
    with pytest.raises(InvalidInput, match="more than 10000 fires"):
        scheduler.create_backfill("minutely", datetime(2024, 1, 1), datetime(2024, 1, 7))


def test_a_python_callable_and_an_event_filter_function(
    samples: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.seeds import pipelines

    monkeypatch.setenv("REPORT_FILE", str(tmp_path / "report.txt"))
    scheduler: Scheduler = samples["scheduler"]
    scheduler.add_schedule(
        Schedule(
            schedule_id="daily_report",
            schedule_type=ScheduleType.CRON,
            schedule_definition=CronSchedule(cron_expression="0 9 * * *"),
            asset_graph=AssetGraph(name="report_pipeline", callable=pipelines.report),
            timezone="UTC",
        )
    )
    assert scheduler.app.migrations.spec("daily_report").callable == "tests.seeds.pipelines:report"
    backfill = scheduler.create_backfill("daily_report", datetime(2024, 1, 1), datetime(2024, 1, 2))
    result = scheduler.execute_backfill(backfill.backfill_id)
    reasons = [r.reason for r in scheduler.app.runs.list("daily_report", limit=5)]
    assert (result.tasks_succeeded, result.tasks_failed) == (2, 0), reasons
    lines = sorted(line.split()[1] for line in (tmp_path / "report.txt").read_text().splitlines())
    assert lines == ["2024-01-01", "2024-01-02"]

    scheduler.add_schedule(
        Schedule(
            schedule_id="s3_only",
            schedule_type=ScheduleType.EVENT,
            schedule_definition=EventTrigger(
                event_type="data_available", event_filter=pipelines.from_s3
            ),
            asset_graph=AssetGraph(name="broken", callable="tests.seeds.pipelines:broken"),
        )
    )
    elsewhere = TriggerEvent(event_type="data_available", event_data={"source": "gcs"})
    [turned_down] = scheduler.trigger_event(elsewhere)
    assert turned_down.outcome == "filtered"
    assert "tests.seeds.pipelines:from_s3 turned it down" in (turned_down.reason or "")
    [taken] = scheduler.trigger_event(
        TriggerEvent(event_type="data_available", event_data={"source": "s3"})
    )
    assert taken.outcome == "started" and taken.run_id is not None
    failed = scheduler.app.runs.wait(taken.run_id)
    assert failed.state.value == "failed" and "RuntimeError: the pipeline broke" in (
        failed.reason or ""
    )

    with pytest.raises(InvalidInput, match="module-level function"):
        scheduler.add_schedule(
            Schedule(
                schedule_id="nested",
                schedule_type=ScheduleType.EVENT,
                schedule_definition=EventTrigger(event_type="x", event_filter=lambda e: True),
            )
        )
