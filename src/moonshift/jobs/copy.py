"""The ``copy`` job: plan the tables, refuse what cannot be copied whole, then copy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from moonshift.connectors.base import Connector, Unreachable
from moonshift.connectors.registry import connector_for
from moonshift.connectors.values import comparable
from moonshift.copy import keys
from moonshift.copy.batches import BadRow
from moonshift.copy.describe import describe
from moonshift.copy.estimate import measure
from moonshift.copy.plan import CopyPlan, Planner
from moonshift.copy.risks import gather
from moonshift.copy.runner import Controls, CopyRunner
from moonshift.copy.suggest import Suggester
from moonshift.domain.secrets import MissingVariableError
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import InvalidInput, TerminalError, TransientError
from moonshift.seams import JobContext, Outcome

log = logging.getLogger("moonshift.copy")
REDACTED = "***"
MAX_UNAVAILABLE_WAIT = timedelta(minutes=5)


def connectors(spec: MigrationSpec, environ: Mapping[str, str]) -> tuple[Connector, Connector]:
    assert spec.source is not None and spec.target is not None
    try:
        return (
            connector_for(spec.source.location, environ, "source.url"),
            connector_for(spec.target.location, environ, "target.url"),
        )
    except (MissingVariableError, InvalidInput) as exc:
        raise TerminalError(str(exc)) from None


def analyse(
    spec: MigrationSpec,
    source: Connector,
    target: Connector,
    measured: Mapping[str, Any] | None = None,
) -> tuple[CopyPlan, dict[str, Any]]:
    """Read both schemas and plan the copy; the plan, and its description for the stored
    plan (``copy.describe``). ``measured``: the profile and estimate already made for this
    run, kept instead of sampling again."""
    planner = Planner(spec.copy_spec, source, target)
    plan = planner.plan()
    described = describe(plan, planner.source_schema, planner.target_schema)
    schemas = (planner.source_schema, planner.target_schema)
    described["suggestions"] = Suggester(spec.copy_spec, schemas, (source, target)).suggestions()
    described["risk_facts"] = gather(
        spec.copy_spec, plan, planner.source_schema, source, target, spec.risk.long_transaction
    )
    if plan.errors:
        return plan, described
    if measured is not None:
        described.update(measured)
    else:
        described["profile"], described["estimate"] = measure(
            plan, source, target, spec.copy_spec.batch_rows
        )
    return plan, described


def ready(spec: MigrationSpec, plan: CopyPlan) -> CopyPlan:
    """The plan of a copy that can start; TerminalError naming what it refuses otherwise."""
    for warning in plan.warnings:
        log.warning("%s: %s", spec.id, warning)
    if plan.errors:
        lines = "; ".join(str(e) for e in plan.errors)
        raise TerminalError(f"the copy cannot start, nothing was written: {lines}")
    if not plan.tables:
        raise TerminalError("copy.tables: no table to copy")
    return plan


class CopyJob:
    def __init__(
        self,
        spec: MigrationSpec,
        *,
        run_id: int,
        copy_id: int,
        environ: Mapping[str, str],
        record_errors: Callable[[int, list[dict[str, Any]]], object],
        now: Callable[[], datetime],
        note: Callable[[str], None] = lambda _text: None,
        retried: Callable[[str], None] = lambda _text: None,
        measured: Mapping[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.measured = measured  # the stored plan's sample, when the run has one
        self.run_id, self.copy_id = run_id, copy_id
        self.environ = environ
        self.record_errors = record_errors
        self.now = now
        self.note = note  # kept in the run's history
        self.retried = retried  # a transient failure retried: kept in the history too
        self.plan: CopyPlan | None = None
        self.description: dict[str, Any] = {}
        self.unavailable: str | None = None

    def prepare(self) -> None:
        self.source, self.target = connectors(self.spec, self.environ)
        for side, connector in (("source", self.source), ("target", self.target)):
            try:
                connector.connect().close()
            except Exception as exc:
                error = connector.translate(exc)
                if not isinstance(error, TransientError) and side == "source":
                    raise TerminalError(f"source: {error}") from None
                self.unavailable = f"{side}_unavailable: {error}"
                return
        try:
            plan, self.description = analyse(self.spec, self.source, self.target, self.measured)
        except Unreachable as exc:
            self.unavailable = f"{exc.side}_unavailable: {exc.reason}"
            return
        self.plan = ready(self.spec, plan)
        for warning in self.plan.warnings:
            self.note(str(warning))

    def describe(self) -> dict[str, Any]:
        if self.unavailable:
            return {"unavailable": self.unavailable}
        return self.description

    def run(self, ctx: JobContext) -> Outcome:
        if self.unavailable:
            return Outcome(pause=self.unavailable, resume_at=self._retry_at())
        outcome = self._runner(ctx).run()
        if outcome.pause and "unavailable" in outcome.pause:
            return replace(outcome, resume_at=self._retry_at())
        return outcome

    def help(self, ctx: JobContext) -> Outcome:
        """Copy the key ranges that can be claimed (``ctx.ranges``) of this copy, which
        another worker (of any daemon) runs: planned again here, as a worker that takes a
        run over does, without the estimate's sample."""
        self.source, self.target = connectors(self.spec, self.environ)
        self.plan = ready(self.spec, Planner(self.spec.copy_spec, self.source, self.target).plan())
        return self._runner(ctx).help()

    def _runner(self, ctx: JobContext) -> CopyRunner:
        assert self.plan is not None
        controls = Controls(
            should_stop=ctx.should_stop,
            immediate=lambda: bool((control := ctx.control()) and control.immediate),
            settings=ctx.overrides,
            record_bad_rows=self._queue,
            report=ctx.report,
            heartbeat=ctx.heartbeat,
            retried=self.retried,
            ranges=ctx.ranges,
        )
        return CopyRunner(
            self.spec.copy_spec,
            self.plan,
            self.source,
            self.target,
            migration_id=self.spec.id,
            copy_id=self.copy_id,
            controls=controls,
        )

    def _retry_at(self) -> datetime:
        """A copy paused for an unreachable database is tried again after the backoff its
        retries would have reached next (capped): the resume is the connection test."""
        copy = self.spec.copy_spec
        wait: timedelta = min(copy.retry_backoff * 2**copy.max_retries, MAX_UNAVAILABLE_WAIT)
        return self.now() + wait

    def _queue(self, rows: list[BadRow]) -> None:
        self.record_errors(self.run_id, [self._entry(row) for row in rows])

    def _entry(self, row: BadRow) -> dict[str, Any]:
        """A refused row for the queue: redacted values are masked, in the message too."""
        copy = self.spec.copy_spec
        values, message = {}, row.message
        for name, value in row.values.items():
            shown = comparable(value)
            if copy.redacted(row.table, name):
                if value is not None and shown:
                    message = message.replace(shown, REDACTED)
                shown = REDACTED
            values[name] = shown
        return {
            "table_name": row.table,
            "row_key": keys.encode(row.key),
            "row_values": values,
            "message": message,
        }
