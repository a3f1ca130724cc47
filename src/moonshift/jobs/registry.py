"""The job kinds moonshift runs, and what each can do. The engine and the workers ask here;
nothing else names a kind. A new kind is one module in ``jobs/`` and one entry below."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from moonshift.domain.spec import MigrationSpec
from moonshift.errors import TerminalError
from moonshift.jobs.command import CommandJob
from moonshift.jobs.copy import CopyJob
from moonshift.jobs.python import PythonJob
from moonshift.jobs.steps import StepsJob, steps_parts
from moonshift.seams import Job


@dataclass(frozen=True)
class JobSetup:
    """What a job is built from: its spec and the run it executes."""

    spec: MigrationSpec
    run_id: int
    copy_id: int  # the first attempt's run id: a copy and its retries share checkpoints
    logical_date: datetime | None
    log_dir: Path
    environ: Mapping[str, str]
    now: Callable[[], datetime]
    record_errors: Callable[[int, list[dict[str, Any]]], object]  # the copy's error queue
    note: Callable[[str], None]  # kept in the run's history
    retried: Callable[[str], None] = lambda _text: None  # a retried failure: in the history too
    # a copy's profile and estimate from the run's stored plan: a run resumed or taken over
    # plans again (the schemas may have changed) but does not sample again
    measured: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class JobKind:
    name: str
    build: Callable[[JobSetup], Job]
    # A stop leaves a checkpoint the job resumes from: it pauses (for a window, a shutdown,
    # a takeover) instead of failing.
    can_pause: bool = False
    # It reports per-table progress while it runs (``Progress``).
    reports_progress: bool = False
    # A plan's parts known from the spec alone (a copy's come from its databases).
    plan_parts: Callable[[MigrationSpec], dict[str, Any]] = lambda _spec: {}


def _command(setup: JobSetup) -> Job:
    spec = setup.spec
    assert spec.command is not None
    extra = {"MOONSHIFT_RUN_ID": str(setup.run_id), "MOONSHIFT_MIGRATION_ID": spec.id}
    if setup.logical_date is not None:
        extra["MOONSHIFT_LOGICAL_DATE"] = setup.logical_date.isoformat()
    return CommandJob(
        spec.command,
        log_dir=setup.log_dir,
        run_id=setup.run_id,
        environ=setup.environ,
        extra_env=extra,
    )


def _steps(setup: JobSetup) -> Job:
    assert setup.spec.steps is not None
    return StepsJob(setup.spec.steps)


def _python(setup: JobSetup) -> Job:
    assert setup.spec.callable is not None
    offered = {
        "run_id": setup.run_id,
        "migration_id": setup.spec.id,
        "logical_date": setup.logical_date,
    }
    return PythonJob(setup.spec.callable, offered)


def _copy(setup: JobSetup) -> Job:
    return CopyJob(
        setup.spec,
        run_id=setup.run_id,
        copy_id=setup.copy_id,
        environ=setup.environ,
        record_errors=setup.record_errors,
        now=setup.now,
        note=setup.note,
        retried=setup.retried,
        measured=setup.measured,
    )


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("command", _command),
        JobKind(
            "steps",
            _steps,
            can_pause=True,
            plan_parts=lambda spec: steps_parts(spec.steps) if spec.steps else {},
        ),
        JobKind("python", _python),
        JobKind("copy", _copy, can_pause=True, reports_progress=True),
    )
}


def kind_of(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise TerminalError(f"kind {name}: this version of moonshift cannot run it yet") from None
