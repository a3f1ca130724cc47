"""Validating a copied migration: a completed run moves to ``validating`` and ends
``certified`` (every perspective passed) or ``failed`` (with what diverged); a run that has
ended already stays as it is and the validation is kept on its own. The same for a worker
(``validation: {auto: true}``) and for an operator (``moonshift validation run``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moonshift.connectors.base import Unreachable, connect
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.domain.validation import CheckResult
from moonshift.errors import TerminalError
from moonshift.jobs.copy import connectors
from moonshift.runtime.runs import LEASE, HeldLease, RunContext, with_connections
from moonshift.store.records import RunRecord, ValidationRecord

if TYPE_CHECKING:
    from moonshift.validation.runner import Report

log = logging.getLogger("moonshift.validation")


@dataclass(frozen=True)
class Validated:
    validation: ValidationRecord
    run: RunRecord | None  # as the validation left it


def validate_copy(ctx: RunContext, spec: MigrationSpec, run: RunRecord | None) -> Validated:
    """Validate ``spec``'s copy; move ``run`` through validating when it is completed.
    Unreachable (nothing recorded, nothing moved) when a database cannot be reached."""
    spec = with_connections(ctx.store, spec)
    try:
        source, target = connectors(spec, ctx.environ)
    except TerminalError as exc:
        raise TerminalError(f"validation: {exc}") from None
    for side, connector in (("source", source), ("target", target)):
        connect(connector, side).close()
    moves = run is not None and run.state is State.COMPLETED
    now = ctx.clock.now()
    if moves:
        assert run is not None
        run = ctx.store.transition_run(
            run.id,
            State.VALIDATING,
            actor=ctx.actor,
            now=now,
            reason="validating the copy: " + ", ".join(spec.validation_spec.perspectives),
            lease_owner=ctx.actor,
            lease_expires_at=now + LEASE,
            heartbeat_at=now,
        )
    record = ctx.store.start_validation(spec.id, run.id if run else None, actor=ctx.actor, now=now)
    # loaded here: a copy that never validates does not load the checks (YAML among them)
    from moonshift.validation.runner import subject, validate

    lease = HeldLease(ctx, run.id, ctx.actor) if moves and run else None

    def moving() -> RunRecord | None:
        """The run to move at the end, unless it was taken over while it was validated."""
        return run if lease is not None and lease.held() else None

    try:
        beat = lease.renew if lease is not None else (lambda: None)
        report = validate(subject(spec, source, target, beat))
    except Unreachable as exc:
        return _ended(ctx, record, moving(), "error", f"validation: {exc}")
    except Exception as exc:
        log.exception("validation %d of %s failed to run", record.id, spec.id)
        reason = f"validation could not run: {exc}"
        return _ended(ctx, record, moving(), "error", reason)
    return _reported(ctx, record, moving(), report)


def _reported(
    ctx: RunContext, record: ValidationRecord, run: RunRecord | None, report: Report
) -> Validated:
    state = "passed" if report.passed else "failed"
    ended = ctx.store.end_validation(
        record.id,
        state=state,
        summary=report.summary,
        results=[_stored(r) for r in report.results],
        divergences=[_divergence(r, d) for r in report.results for d in r.divergences],
        now=ctx.clock.now(),
    )
    if run is None:
        return Validated(ended, None)
    to = State.CERTIFIED if report.passed else State.FAILED
    reason = f"validation {record.id} {state}: {report.summary}"
    return Validated(ended, _move(ctx, run, to, reason))


def _ended(
    ctx: RunContext, record: ValidationRecord, run: RunRecord | None, state: str, reason: str
) -> Validated:
    ended = ctx.store.end_validation(
        record.id, state=state, summary=reason, results=[], divergences=[], now=ctx.clock.now()
    )
    return Validated(ended, _move(ctx, run, State.FAILED, reason) if run else None)


def _move(ctx: RunContext, run: RunRecord, to: State, reason: str) -> RunRecord:
    return ctx.store.transition_run(
        run.id,
        to,
        actor=ctx.actor,
        now=ctx.clock.now(),
        reason=reason,
        lease_owner=None,
        lease_expires_at=None,
    )


def _stored(result: CheckResult) -> dict[str, Any]:
    stored = result.model_dump(mode="json", exclude={"divergences"})
    stored["kept"] = len(result.divergences)
    return stored


def _divergence(result: CheckResult, divergence: Any) -> dict[str, Any]:
    return {
        "perspective": result.perspective,
        "table_name": divergence.table,
        "kind": divergence.kind,
        "what": divergence.what,
        "detail": divergence.model_dump(mode="json", include={"key", "source", "target"}),
    }
