"""Prometheus metrics, read from the state store at scrape time, so that every API process
reports the same numbers. Labels name migrations, tables, states and stages; never a row's
values."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from moonshift.api.auth import App, Reader
from moonshift.app import Moonshift, views
from moonshift.domain.progress import BATCH_BUCKETS

router = APIRouter(tags=["metrics"])
STAGES = ("read", "transform", "write")


class StoreCollector(Collector):
    def __init__(self, app: Moonshift) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        yield from families(self.app.metrics.snapshot())


def families(m: views.Metrics) -> Iterator[Metric]:
    runs = GaugeMetricFamily("moonshift_runs", "Runs in each state", labels=["state"])
    for state, count in sorted(m.runs_by_state.items()):
        runs.add_metric([state], count)
    yield runs
    yield from _copies(m.copies)
    errors = GaugeMetricFamily(
        "moonshift_copy_errors_open", "Rows waiting in the error queue", labels=["migration"]
    )
    for migration, count in sorted(m.open_errors.items()):
        errors.add_metric([migration], count)
    yield errors
    windows = GaugeMetricFamily(
        "moonshift_window_open", "1 while a migration's window is open", labels=["migration"]
    )
    for migration, is_open in sorted(m.windows_open.items()):
        windows.add_metric([migration], 1 if is_open else 0)
    yield windows
    lag = GaugeMetricFamily(
        "moonshift_incremental_lag_seconds",
        "Since the latest successful pass of an incremental copy started",
        labels=["migration"],
    )
    for migration, seconds in sorted(m.incremental_lag_seconds.items()):
        lag.add_metric([migration], seconds)
    yield lag
    yield GaugeMetricFamily(
        "moonshift_scheduler_lateness_seconds",
        "How far past due the most overdue fire of an active schedule is",
        value=m.scheduler_lateness_seconds,
    )
    yield GaugeMetricFamily(
        "moonshift_daemons", "Daemons heartbeating into the state store", value=m.daemons
    )


def _copies(copies: list[views.CopyNumbers]) -> Iterator[Metric]:
    table_labels = ["migration", "table"]
    rows = GaugeMetricFamily(
        "moonshift_copy_rows", "Rows copied by the latest run", labels=table_labels
    )
    total = GaugeMetricFamily(
        "moonshift_copy_rows_planned", "Rows the table held when planned", labels=table_labels
    )
    ratio = GaugeMetricFamily(
        "moonshift_copy_progress_ratio", "Rows copied over rows planned", labels=table_labels
    )
    rate = GaugeMetricFamily(
        "moonshift_copy_rate_rows_per_second",
        "Rows per second of the current worker",
        labels=table_labels,
    )
    eta = GaugeMetricFamily(
        "moonshift_copy_eta_seconds", "Time left at the current rate", labels=table_labels
    )
    bad = GaugeMetricFamily(
        "moonshift_copy_bad_rows", "Rows the target refused", labels=table_labels
    )
    batches = HistogramMetricFamily(
        "moonshift_copy_batch_seconds",
        "Time per batch in each stage, over the latest run's tables",
        labels=["migration", "stage"],
    )
    for copy in copies:
        for name, table in sorted(copy.progress.tables.items()):
            labels = [copy.migration_id, name]
            rows.add_metric(labels, table.rows)
            total.add_metric(labels, table.total)
            ratio.add_metric(labels, min(1.0, table.rows / table.total) if table.total else 1.0)
            rate.add_metric(labels, table.rate)
            if table.eta_seconds is not None:
                eta.add_metric(labels, table.eta_seconds)
            bad.add_metric(labels, table.bad)
        for stage in STAGES:
            counts = [0] * (len(BATCH_BUCKETS) + 1)
            spent = 0.0
            for table in copy.progress.tables.values():
                for i, n in enumerate(table.buckets.get(stage, ())):
                    counts[i] += n
                spent += getattr(table.seconds, stage)
            cumulative, buckets = 0, []
            for bound, n in zip([*map(str, BATCH_BUCKETS), "+Inf"], counts, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            batches.add_metric([copy.migration_id, stage], buckets, spent)
    yield from (rows, total, ratio, rate, eta, bad, batches)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(app: App, _: Reader) -> Response:
    """Prometheus text format (scrape with a read key as bearer token)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(app))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
