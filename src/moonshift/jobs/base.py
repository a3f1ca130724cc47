"""The job seam: every job kind (command, copy, ...) implements ``Job``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


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


class Job(Protocol):
    def prepare(self) -> None:
        """Resolve everything the job needs before it starts; raise JobError if it cannot."""
        ...

    def run(self, should_stop: StopCheck) -> JobOutcome:
        """Do the work, asking ``should_stop`` regularly."""
        ...
