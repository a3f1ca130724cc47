"""Whether a queued run may start now: overlap, exclusions, dependencies, windows, limits.

Pure: the engine gathers the facts, these functions decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from moonshift.domain import lifecycle
from moonshift.domain.durations import format_duration
from moonshift.domain.lifecycle import State
from moonshift.domain.policies import Condition, DependencyStrategy, Overlap
from moonshift.domain.spec import MigrationSpec
from moonshift.store.records import RunRecord
from moonshift.timing import StartAction, decide_start


class Verdict(StrEnum):
    GO = "go"
    WAIT = "wait"
    FAIL = "fail"


@dataclass(frozen=True)
class Gate:
    verdict: Verdict
    reason: str = ""
    not_before: datetime | None = None  # for WAIT: do not look again before then
    recheck_at: datetime | None = None  # for WAIT: something changes then (a timeout)

    @classmethod
    def go(cls) -> Gate:
        return _GO  # one for all: several per run gated, thousands a burst


_GO = Gate(Verdict.GO)
SATISFIES = {
    Condition.COMPLETED: {State.COMPLETED, State.VALIDATING, State.CERTIFIED},
    Condition.CERTIFIED: {State.CERTIFIED},
    Condition.SUCCEEDED: lifecycle.SUCCEEDED,
}
ENDED_BADLY = lifecycle.ENDED_BADLY


def overlap_gate(
    run: RunRecord, spec: MigrationSpec, others: list[RunRecord], parallel: int = 1
) -> Gate:
    """A run of a migration waits while another of its runs has started (unless allow).

    Backfill runs yield to live runs, and run up to their backfill's ``parallel`` at once;
    live runs go ahead of queued backfill runs.
    """
    others = [r for r in others if r.id != run.id]
    started = [r for r in others if r.state is not State.CREATED]
    queued_before = [
        r
        for r in others
        if r.state is State.CREATED and (r.nominal_time, r.id) < (run.nominal_time, run.id)
    ]
    if run.backfill_id is not None:
        live = [r for r in others if r.backfill_id is None]
        if live:
            return Gate(Verdict.WAIT, f"backfill yields to run {live[0].id} of {spec.id}")
        mine = [r for r in started if r.backfill_id == run.backfill_id]
        if len(mine) >= parallel:
            why = f"waiting: backfill {run.backfill_id} runs {parallel} at once"
            return Gate(Verdict.WAIT, why)
        return Gate.go()
    if spec.overlap is Overlap.ALLOW:
        return Gate.go()
    if started:
        return Gate(Verdict.WAIT, f"waiting for run {started[0].id} of {spec.id} to end")
    queued_before = [r for r in queued_before if r.backfill_id is None]
    if queued_before:
        return Gate(Verdict.WAIT, f"waiting for run {queued_before[0].id} of {spec.id} to go first")
    return Gate.go()


def exclusion_gate(
    spec: MigrationSpec, running: dict[str, list[int]], excluded_by: dict[str, str]
) -> Gate:
    """``running``: migration -> its runs holding workers. ``excluded_by``: other migrations
    whose exclude_concurrent names this one, with their reason (exclusion is symmetric)."""
    pairs = [(e.migration, e.reason) for e in spec.exclude_concurrent] + list(excluded_by.items())
    for other, reason in pairs:
        if running.get(other):
            why = f" ({reason})" if reason else ""
            return Gate(
                Verdict.WAIT, f"waiting: exclude_concurrent with {other}, which is running{why}"
            )
    return Gate.go()


def dependency_gate(
    run: RunRecord, spec: MigrationSpec, latest: dict[str, RunRecord | None], now: datetime
) -> Gate:
    """``latest``: for each dependency, its latest run whose nominal time is not after this
    run's. The run waits for unmet dependencies up to dependency_timeout (from its creation)."""
    timed_out = now - run.created_at >= spec.dependency_timeout
    for dep in spec.depends_on:
        found = latest.get(dep.migration)
        if found is not None and found.state in SATISFIES[dep.condition]:
            continue
        if spec.dependency_strategy is DependencyStrategy.SKIP and (
            timed_out or (found is not None and found.state in ENDED_BADLY)
        ):
            continue
        if (
            found is not None
            and found.state in ENDED_BADLY
            and spec.dependency_strategy is DependencyStrategy.FAIL
        ):
            return Gate(
                Verdict.FAIL, f"dependency {dep.migration} {found.state.value} (run {found.id})"
            )
        if timed_out:
            limit = format_duration(spec.dependency_timeout)
            return Gate(
                Verdict.FAIL, f"dependency {dep.migration} not {dep.condition.value} within {limit}"
            )
        what = f"run {found.id} is {found.state.value}" if found else "it has no run yet"
        return Gate(
            Verdict.WAIT,
            f"waiting for dependency {dep.migration} to be {dep.condition.value} ({what})",
        )
    return Gate.go()


def window_gate(run: RunRecord, spec: MigrationSpec, now: datetime) -> Gate:
    windows = spec.window_set()
    if run.ignore_windows or windows is None:
        return Gate.go()
    decision = decide_start(now, windows, spec.behavior())
    if decision.action is StartAction.FAIL:
        return Gate(Verdict.FAIL, f"window: {decision.reason}")
    if decision.delayed:
        assert decision.window is not None
        return Gate(Verdict.WAIT, f"waiting for window {decision.window.name}", decision.start_at)
    return Gate.go()
