"""The job seam: every job kind (command, steps, copy, ...) implements ``Job``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# The stop reason of a job whose run another worker owns now: nothing more is recorded.
OWNERSHIP_LOST = "lease lost"


class JobError(Exception):
    """The job cannot run as specified (a terminal error): the run fails with this reason."""


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``failure`` is None on success, else the reason the run failed."""

    failure: str | None = None
    exit_code: int | None = None
    error_tail: str | None = None
    stopped: str | None = None  # set when the job ended because it was told to stop
    # set when the job paused itself (a database unreachable, too many bad rows): the run
    # pauses at its checkpoint, to resume at ``resume_at`` (None: when an operator says)
    pause: str | None = None
    resume_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.failure is None and self.stopped is None and self.pause is None


# Asked between steps of a job; returns a reason to stop (e.g. "cancelled") or None.
StopCheck = Callable[[], str | None]


@dataclass
class JobContext:
    should_stop: StopCheck
    checkpoint: dict[str, Any] | None = None  # where a paused or taken-over run left off
    save_checkpoint: Callable[[dict[str, Any]], None] = field(default=lambda _c: None)
    # The run's pending control request ({"action", "reason", "immediate"}), if any.
    control: Callable[[], dict[str, Any] | None] = field(default=lambda: None)
    # Settings an operator changed while the run goes on (``moonshift config``).
    overrides: Callable[[], dict[str, Any]] = field(default=lambda: {})
    # Where the job reports its progress (kept on the run, throttled).
    report: Callable[[dict[str, Any]], None] = field(default=lambda _p: None)
    # Renews the run's lease; for a job busy in one long step (any thread may call it).
    heartbeat: Callable[[], None] = field(default=lambda: None)


class Job(Protocol):
    # True when a stop leaves a checkpoint the job resumes from (pause instead of fail).
    can_pause: bool

    def prepare(self) -> None:
        """Resolve everything the job needs before it starts; raise JobError if it cannot."""
        ...

    def run(self, ctx: JobContext) -> JobOutcome:
        """Do the work, asking ``ctx.should_stop`` regularly."""
        ...
