"""``show`` and ``export`` print a migration in moonshift's layout, however it was written."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.seeds.cli import invoke as moonshift
from tests.seeds.test_nested_schedule import DEPENDENCIES, HEAD, RECURRING, WEBHOOK, WINDOWS

OTHERS = """
- id: mig_reference_data
  kind: command
  command: echo ref
- id: mig_heavy_analytics
  kind: command
  command: echo heavy
"""


def test_show_and_export_print_the_normalized_spec(tmp_path: Path) -> None:
    blocks = [WINDOWS, WEBHOOK, RECURRING, DEPENDENCIES]
    nested = HEAD + "schedule:\n" + "".join(b.removeprefix("\nschedule:\n") for b in blocks)
    (tmp_path / "others.yaml").write_text(OTHERS)
    (tmp_path / "nightly.yaml").write_text(nested)
    env = {"TRIGGER_SECRET": "s3cret"}
    assert moonshift(tmp_path, "apply", "others.yaml", "nightly.yaml", env=env).returncode == 0

    shown = moonshift(tmp_path, "show", "nightly").stdout
    for line in (
        "schedule: cron 0 2 * * * (America/New_York)",
        "window weekend_window: saturday, sunday 00:00-23:59 America/New_York",
        "window nightly_window: monday, tuesday, wednesday, thursday, friday 22:00-06:00",
        "outside a window: pause; warn 30m before it closes; finish the current batch",
        "waits for: mig_reference_data (completed); strategy fail, timeout 1h",
        "never with: mig_heavy_analytics (Competes for same target resources)",
        "overlap: skip; at most 4h a run; a skipped fire is notified",
        "trigger: webhook",
    ):
        assert line in shown, shown
    assert "s3cret" not in shown

    exported = moonshift(tmp_path, "export", "nightly")
    assert exported.returncode == 0, exported.stderr
    spec = yaml.safe_load(exported.stdout)
    assert spec["schedule"] == {"cron": "0 2 * * *", "timezone": "America/New_York"}
    assert spec["depends_on"] == [{"migration": "mig_reference_data", "condition": "completed"}]
    assert [w["name"] for w in spec["windows"]] == ["weekend_window", "nightly_window"]
    assert "maintenance_windows" not in exported.stdout

    (tmp_path / "exported.yaml").write_text(exported.stdout)
    again = moonshift(tmp_path, "apply", "exported.yaml", "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert '"action": "unchanged"' in again.stdout

    missing = moonshift(tmp_path, "export", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr
