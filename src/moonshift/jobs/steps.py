"""The ``steps`` job: counts through N steps of a set length, checkpointing after each.

It stands in for a copy where a job must pause, resume and survive takeover: a run that
stops keeps its count, and the next worker goes on from there.
"""

from __future__ import annotations

import time
from typing import Any

from moonshift.domain.spec import StepsSpec
from moonshift.seams import JobContext, Outcome

SLICE_SECONDS = 0.05


class StepsJob:
    def __init__(self, spec: StepsSpec) -> None:
        self.spec = spec

    def prepare(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return steps_parts(self.spec)

    def run(self, ctx: JobContext) -> Outcome:
        done = int((ctx.checkpoint or {}).get("done", 0))
        every = self.spec.every.total_seconds()
        while done < self.spec.count:
            deadline = time.monotonic() + every
            while (left := deadline - time.monotonic()) > 0:
                reason = ctx.should_stop()
                if reason:
                    return Outcome(stopped=reason)
                time.sleep(min(SLICE_SECONDS, left))
            done += 1
            ctx.save_checkpoint({"done": done, "of": self.spec.count})
        return Outcome()


def steps_parts(spec: StepsSpec) -> dict[str, Any]:
    """A plan's parts for steps: the estimate is exact."""
    return {"estimate": {"seconds": spec.count * spec.every.total_seconds()}}
