"""Functions the scheduler API tests schedule: importable, so that a worker can call them."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from moonshift.scheduler import TriggerEvent


def report(run_id: int, logical_date: datetime | None) -> None:
    """Appends a line per run to $REPORT_FILE."""
    with Path(os.environ["REPORT_FILE"]).open("a") as out:
        out.write(f"{run_id} {logical_date.date() if logical_date else '-'}\n")


def broken() -> None:
    raise RuntimeError("the pipeline broke")


def from_s3(event: TriggerEvent) -> bool:
    return event.event_data.get("source") == "s3"
