"""Rows done per table, rates, and where each batch's time went (read, transform, write)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from moonshift.domain.progress import Progress as Snapshot
from moonshift.domain.progress import StageSeconds, TableProgress


@dataclass
class _Table:
    total: int
    rows: int = 0
    bad: int = 0
    state: str = "pending"
    batches: int = 0
    read: float = 0.0
    transform: float = 0.0
    write: float = 0.0
    session_rows: int = 0  # copied by this worker (the rate is of these)
    started: float | None = None
    elapsed: float = 0.0


class Progress:
    def __init__(self, totals: dict[str, int]) -> None:
        self._lock = threading.Lock()
        self._tables = {name: _Table(total) for name, total in totals.items()}

    def restore(self, table: str, rows: int, done: bool) -> None:
        with self._lock:
            entry = self._tables[table]
            entry.rows += rows
            if done:
                entry.state = "done"

    def start(self, table: str) -> None:
        with self._lock:
            entry = self._tables[table]
            entry.state, entry.started = "copying", time.monotonic()

    def add(self, table: str, rows: int, read: float, transform: float, write: float) -> None:
        with self._lock:
            entry = self._tables[table]
            entry.rows += rows
            entry.session_rows += rows
            entry.batches += 1
            entry.read += read
            entry.transform += transform
            entry.write += write

    def bad(self, table: str) -> None:
        with self._lock:
            self._tables[table].bad += 1

    def finish(self, table: str) -> None:
        with self._lock:
            entry = self._tables[table]
            entry.state = "done"
            if entry.started is not None:
                entry.elapsed += time.monotonic() - entry.started
                entry.started = None

    def snapshot(self) -> Snapshot:
        """What the run keeps for ``status`` and ``perf``."""
        now = time.monotonic()
        tables = {}
        with self._lock:
            for name, t in self._tables.items():
                elapsed = t.elapsed + (now - t.started if t.started is not None else 0.0)
                rate = t.session_rows / elapsed if elapsed > 0 else 0.0
                left = max(0, t.total - t.rows)
                tables[name] = TableProgress(
                    state=t.state,
                    rows=t.rows,
                    total=t.total,
                    bad=t.bad,
                    batches=t.batches,
                    rate=round(rate, 1),
                    eta_seconds=round(left / rate, 1) if rate > 0 and t.state != "done" else None,
                    seconds=StageSeconds(
                        read=round(t.read, 4),
                        transform=round(t.transform, 4),
                        write=round(t.write, 4),
                    ),
                    elapsed=round(elapsed, 3),
                )
        return Snapshot(kind="copy", tables=tables)
