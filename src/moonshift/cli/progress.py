"""Rich progress bars for copies: one bar per table, fed from the run's stored progress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from moonshift.cli import output as o
from moonshift.domain.progress import Progress as Snapshot

T = TypeVar("T")


def bars() -> Progress:
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>12}"),
        TimeRemainingColumn(),
        console=o.err,
        transient=False,
    )


class TableBars:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def update(self, snapshot: Snapshot | None) -> None:
        for name, table in (snapshot.tables if snapshot else {}).items():
            total = max(table.total, table.rows)
            rate = f"{table.rate:,.0f} rows/s" if table.rate else ""
            if name not in self.tasks:
                self.tasks[name] = self.progress.add_task(name, total=total, rate=rate)
            self.progress.update(self.tasks[name], completed=table.rows, total=total, rate=rate)


def follow(read: Callable[[], Snapshot | None], work: Callable[[], T]) -> T:
    """Run ``work`` while bars show what ``read`` returns, polled from another thread."""
    done = threading.Event()
    with bars() as progress:
        view = TableBars(progress)

        def poll() -> None:
            while not done.wait(0.3):
                try:
                    view.update(read())
                except Exception:  # a busy store only skips one refresh
                    continue

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            result = work()
        finally:
            done.set()
            thread.join()
            view.update(read())
    return result
