"""Small frictions met on the way: next with seconds and one UTC column, and a warning for a
start_at already past."""

from __future__ import annotations

from pathlib import Path

from tests.seeds.cli import invoke


def test_next_shows_seconds_when_fires_differ_by_seconds_and_utc_once(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "id: fast\nkind: command\ncommand: echo hi\nschedule: {interval: 5s}\n"
    )
    assert invoke(tmp_path, "apply", "m.yaml").returncode == 0
    shown = invoke(tmp_path, "next", "fast", "--count", "3").stdout
    rows = [line.split("│")[2].strip() for line in shown.splitlines() if line.startswith("│")]
    assert len(rows) == 3 and len(set(rows)) == 3, shown
    assert all(row.endswith("UTC") and row.count(":") == 2 for row in rows)
    assert shown.count("UTC)") == 1


def test_a_past_start_at_is_warned_at_apply(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "id: late\nkind: command\ncommand: echo hi\nschedule: {start_at: '2020-01-01T00:00:00'}\n"
    )
    first = invoke(tmp_path, "apply", "m.yaml")
    assert first.returncode == 0
    assert "m.yaml:4: schedule.start_at: 2020-01-01T00:00:00+00:00 is in the past" in first.stderr
    assert "is in the past" not in invoke(tmp_path, "apply", "m.yaml").stderr  # unchanged
