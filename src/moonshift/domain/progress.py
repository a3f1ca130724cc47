"""A run's progress, as its job reports it: per table, rows, rate and where the time went."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageSeconds(_Snapshot):
    read: float = 0.0
    transform: float = 0.0
    write: float = 0.0


# Upper bounds (seconds) of the batch-time buckets a copy counts per stage, for histograms.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def bucket_of(seconds: float) -> int:
    """The index of the first bucket that holds ``seconds`` (len(BATCH_BUCKETS): above all)."""
    return next(
        (i for i, bound in enumerate(BATCH_BUCKETS) if seconds <= bound), len(BATCH_BUCKETS)
    )


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
    # stage -> batches per bucket of BATCH_BUCKETS (and one more: above the last)
    buckets: dict[str, tuple[int, ...]] = {}


class Progress(_Snapshot):
    kind: str = "copy"
    tables: dict[str, TableProgress] = {}
    phase: str | None = None  # a copy's step after the rows now running (an index, a key)
