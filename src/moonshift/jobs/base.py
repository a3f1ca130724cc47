"""The job seam: every job kind (command, steps, copy, ...) implements ``Job``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class JobError(Exception):
    """The job cannot run as specified (a terminal error): the run fails with this reason."""


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``failure`` is None on success, else the reason the run failed."""

    failure: str | None = None
    exit_code: int | None = None
    error_tail: str | None = None
    stopped: str | None = None  # set when the job ended because it was told to stop

    @property
    def succeeded(self) -> bool:
        return self.failure is None and self.stopped is None


# Asked between steps of a job; returns a reason to stop (e.g. "cancelled") or None.
StopCheck = Callable[[], str | None]


@dataclass
class JobContext:
    should_stop: StopCheck
    checkpoint: dict[str, Any] | None = None  # where a paused or taken-over run left off
    save_checkpoint: Callable[[dict[str, Any]], None] = field(default=lambda _c: None)


class Job(Protocol):
    # True when a stop leaves a checkpoint the job resumes from (pause instead of fail).
    can_pause: bool

    def prepare(self) -> None:
        """Resolve everything the job needs before it starts; raise JobError if it cannot."""
        ...

    def run(self, ctx: JobContext) -> JobOutcome:
        """Do the work, asking ``ctx.should_stop`` regularly."""
        ...
