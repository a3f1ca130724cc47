"""The nested layout (timing written inside ``schedule:``) as other schedulers' docs show it:
each block loads into the same spec as its moonshift form, and errors name the key written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from moonshift.domain.spec import MigrationSpec
from moonshift.specfile import SpecFileError, load_files, load_text

HEAD = "id: nightly\nkind: command\ncommand: echo hi\n"

WINDOWS = """
schedule:
  maintenance_windows:
    - name: weekend_window
      days: [saturday, sunday]
      start_time: '00:00'
      end_time: '23:59'
      timezone: America/New_York

    - name: nightly_window
      days: [monday, tuesday, wednesday, thursday, friday]
      start_time: '22:00'
      end_time: '06:00'
      timezone: America/New_York

  behavior:
    outside_window: pause # pause | continue | fail
    window_ending_warning: 30m # Warn 30 min before window ends
    complete_current_batch: true
"""
WINDOWS_OURS = """
windows:
  - {name: weekend_window, days: [saturday, sunday], start: "00:00", end: "23:59",
     timezone: America/New_York}
  - {name: nightly_window, days: [monday, tuesday, wednesday, thursday, friday],
     start: "22:00", end: "06:00", timezone: America/New_York}
window_behavior: {outside_window: pause, ending_warning: 30m, complete_current_batch: true}
"""

WEBHOOK = """
schedule:
  trigger:
    type: webhook
    webhook_url: "https://api.example.test/v1/migrations/{id}/trigger"
    secret: ${TRIGGER_SECRET}
"""
WEBHOOK_OURS = 'trigger: {type: webhook, secret: "${TRIGGER_SECRET}"}\n'

API = """
schedule:
  trigger:
    # Or: API-based trigger
    type: api
    await_approval: false  # Start immediately on trigger
"""
API_OURS = "trigger: {type: api}\n"

RECURRING = """
schedule:
  recurring:
    enabled: true
    cron: '0 2 * * *' # Daily at 2 AM
    timezone: America/New_York

    behavior:
      skip_if_running: true
      max_duration: 4h
      notify_on_skip: true
"""
RECURRING_OURS = """
schedule: {cron: "0 2 * * *", timezone: America/New_York}
overlap: skip
max_duration: 4h
notify_on_skip: true
"""

DEPENDENCIES = """
schedule:
  dependencies:
    # This migration must complete first
    wait_for:
      - migration_id: mig_reference_data
        condition: completed

    # Don't run simultaneously with these
    exclude_concurrent:
      - migration_id: mig_heavy_analytics
        reason: 'Competes for same target resources'
"""
DEPENDENCIES_OURS = """
depends_on: [{migration: mig_reference_data, condition: completed}]
exclude_concurrent: [{migration: mig_heavy_analytics, reason: Competes for same target resources}]
"""

START_AT = """
schedule:
  start_at: "2026-02-03T02:00:00Z"
  timezone: "America/New_York"
"""


def spec(text: str) -> MigrationSpec:
    [found] = load_text(HEAD + text)
    return found


@pytest.mark.parametrize(
    ("nested", "ours"),
    [
        (WINDOWS, WINDOWS_OURS),
        (WEBHOOK, WEBHOOK_OURS),
        (API, API_OURS),
        (RECURRING, RECURRING_OURS),
        (DEPENDENCIES, DEPENDENCIES_OURS),
        (START_AT, START_AT),
    ],
    ids=["windows", "webhook", "api", "recurring", "dependencies", "start_at"],
)
def test_each_block_is_the_same_spec_as_its_moonshift_form(nested: str, ours: str) -> None:
    assert spec(nested).canonical() == spec(ours).canonical()
    assert spec(nested) == spec(ours)


def test_all_blocks_in_one_schedule() -> None:
    blocks = [WINDOWS, WEBHOOK, RECURRING, DEPENDENCIES]
    together = "schedule:\n" + "".join(b.removeprefix("\nschedule:\n") for b in blocks)
    assert spec(together) == spec(WINDOWS_OURS + WEBHOOK_OURS + RECURRING_OURS + DEPENDENCIES_OURS)


def test_what_the_blocks_mean() -> None:
    found = spec(WINDOWS + RECURRING.removeprefix("\nschedule:"))
    assert found.schedule is not None and found.schedule.cron == "0 2 * * *"
    windows = found.window_set()
    assert windows is not None
    # Friday 22:00 to Sunday 24:00 New York: the Friday night and the weekend, 23:59 being the
    # end of the day, make one stretch
    saturday = windows.upcoming(datetime(2026, 1, 9, 12, tzinfo=UTC), 1)
    assert [
        (s.opens_at.isoformat(), s.closes_at and s.closes_at.isoformat()) for s in saturday
    ] == [("2026-01-10T03:00:00+00:00", "2026-01-12T05:00:00+00:00")]
    assert spec(API).trigger_ is not None and spec(API).webhook is None
    assert (
        spec(RECURRING.replace("skip_if_running: true", "skip_if_running: false")).overlap
        == "queue_one"
    )
    assert spec(RECURRING.replace("enabled: true", "enabled: false")).enabled is False


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + text)
    with pytest.raises(SpecFileError) as raised:
        load_files([path], env={})
    return [str(p).removeprefix(f"{path}:") for p in raised.value.problems]


ERRORS = [
    (
        WINDOWS,
        "end_time: '06:00'",
        "end_time: '25:00'",
        '16: schedule.maintenance_windows[1].end_time: must be a time of day like 22:00, got "25:00"',
    ),
    (
        WINDOWS,
        "outside_window: pause",
        "outside_window: wait",
        '20: schedule.behavior.outside_window: must be one of pause, continue or fail, got "wait"',
    ),
    (
        WINDOWS,
        "window_ending_warning",
        "window_end_warning",
        '21: schedule.behavior.window_end_warning: unknown key "window_end_warning"; '
        'did you mean "window_ending_warning"?',
    ),
    (
        RECURRING,
        "cron: '0 2 * * *'",
        "cron: '0 2 * *'",
        "8: schedule.recurring.cron: needs 5 fields",
    ),
    (
        RECURRING,
        "max_duration: 4h",
        "max_duration: long",
        '13: schedule.recurring.behavior.max_duration: must be a duration like 30m, got "long"',
    ),
    (
        DEPENDENCIES,
        "migration_id: mig_reference_data",
        "migration_id: Ref Data",
        "9: schedule.dependencies.wait_for[0].migration_id: must be a slug",
    ),
    (
        DEPENDENCIES,
        "condition: completed",
        "condition: done",
        "10: schedule.dependencies.wait_for[0].condition: must be one of completed, certified or "
        'succeeded, got "done"',
    ),
    (
        WEBHOOK,
        "secret: ${TRIGGER_SECRET}",
        "secret: hunter2",
        "9: schedule.trigger.secret: must be an environment reference",
    ),
    (
        WINDOWS,
        "start_time: '22:00'",
        "start_tim: '22:00'",
        '15: schedule.maintenance_windows[1].start_tim: unknown key "start_tim"; '
        'did you mean "start_time"?',
    ),
    (
        DEPENDENCIES,
        "- migration_id: mig_heavy_analytics",
        "- migration_idd: mig_heavy_analytics",
        "14: schedule.dependencies.exclude_concurrent[0].migration_idd: unknown key "
        '"migration_idd"; did you mean "migration_id"?',
    ),
]


@pytest.mark.parametrize(("block", "right", "wrong", "expected"), ERRORS)
def test_errors_name_the_key_written(
    tmp_path: Path, block: str, right: str, wrong: str, expected: str
) -> None:
    assert right in block
    found = problems(tmp_path, block.replace(right, wrong))
    assert any(p.startswith(expected) for p in found), found


def test_a_block_and_its_moonshift_key_together_are_refused(tmp_path: Path) -> None:
    text = WINDOWS + "windows: [{name: w, start: '01:00', end: '02:00'}]\n"
    found = problems(tmp_path, text)
    assert any("schedule.maintenance_windows" in p and '"windows" is given too' in p for p in found)


def test_the_webhook_or_api_alternatives_written_in_one_mapping_are_a_duplicate_key(
    tmp_path: Path,
) -> None:
    both = WEBHOOK + API.removeprefix("\nschedule:\n  trigger:\n")
    assert "11: schedule.trigger.type: duplicate key" in problems(tmp_path, both)


def test_unset_variable_warning_names_the_key_written(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + WEBHOOK)
    [warning] = load_files([path], env={}).warnings
    assert warning.path == "schedule.trigger.secret"
