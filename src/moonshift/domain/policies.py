"""Spec keys that tell the scheduler how to run a migration: overlap, misfires, limits,
dependencies, exclusions, retries and pre-flight checks."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import Field, field_validator

from moonshift.domain.spec_base import Duration, Slug, SpecModel, Whole


class Overlap(StrEnum):
    SKIP = "skip"  # a fire while a run is active is skipped (and recorded)
    QUEUE_ONE = "queue_one"  # at most one run waits behind the active one
    QUEUE_ALL = "queue_all"  # every fire waits its turn
    CANCEL_RUNNING = "cancel_running"  # the active run is stopped; the new one starts
    ALLOW = "allow"  # runs overlap


class MisfirePolicy(StrEnum):
    LATEST = "latest"  # of the fires missed by more than grace, run only the newest
    ALL = "all"  # run every missed fire (up to max)
    SKIP = "skip"  # run none of them


class Condition(StrEnum):
    COMPLETED = "completed"  # completed, validating or certified
    CERTIFIED = "certified"
    SUCCEEDED = "succeeded"  # ended well: completed or certified


class DependencyStrategy(StrEnum):
    FAIL = "fail"  # a failed dependency fails this run
    SKIP = "skip"  # run even if a dependency failed
    WAIT = "wait"  # wait until it is met, up to dependency_timeout


class MisfireSpec(SpecModel):
    policy: MisfirePolicy = MisfirePolicy.LATEST
    grace: Duration = timedelta(hours=1)
    max: Whole = Field(default=100, ge=1, le=100_000)


class DependencySpec(SpecModel):
    migration: Slug
    condition: Condition = Condition.SUCCEEDED


class ExclusionSpec(SpecModel):
    migration: Slug
    reason: str = ""


class RetrySpec(SpecModel):
    max: Whole = Field(default=0, ge=0, le=100)
    backoff: Duration = timedelta(minutes=1)

    def delay(self, attempt: int) -> timedelta:
        """Exponential: backoff, 2x, 4x, ... before attempt ``attempt + 1``."""
        return self.backoff * (1 << max(0, attempt - 1))


class PreflightSpec(SpecModel):
    connectivity: Duration = timedelta(minutes=30)
    notify: Duration = timedelta(minutes=10)

    @field_validator("connectivity", "notify")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value
