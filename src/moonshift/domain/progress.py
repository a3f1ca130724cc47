"""A run's progress, as its job reports it: per table, rows, rate and where the time went."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageSeconds(_Snapshot):
    read: float = 0.0
    transform: float = 0.0
    write: float = 0.0


class TableProgress(_Snapshot):
    state: str  # pending, copying, done
    rows: int
    total: int
    bad: int = 0
    batches: int = 0
    rate: float = 0.0  # rows per second copied by the current worker
    eta_seconds: float | None = None
    seconds: StageSeconds = StageSeconds()
    elapsed: float = 0.0


class Progress(_Snapshot):
    kind: str = "copy"
    tables: dict[str, TableProgress] = {}
    phase: str | None = None  # a copy's step after the rows now running (an index, a key)
