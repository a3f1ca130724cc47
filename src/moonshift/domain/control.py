"""Run control: what an operator or the scheduler asks a running job to do at its next check.

A request is stored on the run (its ``control`` column) and read back here, in one place.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from moonshift.domain.lifecycle import State


class Action(StrEnum):
    PAUSE = "pause"  # stop at a checkpoint; the scheduler's pause resumes on its own
    HALT = "halt"  # an operator's stop: keep the checkpoint and wait for `resume`
    STOP = "stop"  # end the run: cancelled
    FAIL = "fail"  # end the run: failed (max_duration, a window that fails)


class ControlRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    reason: str
    immediate: bool = False  # roll back the batch in flight instead of finishing it
    manual: bool = False  # an operator's pause: it waits for `resume`

    def stored(self) -> dict[str, object]:
        """The form kept in the state store (defaults left out, as they always were)."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def ending(self, can_pause: bool) -> State:
        """Where a run stopped by this request ends: paused at its checkpoint when its job
        can pause and the request allows it, failed or cancelled otherwise."""
        if self.action in (Action.PAUSE, Action.HALT) and can_pause:
            return State.PAUSED
        if self.action in (Action.PAUSE, Action.FAIL):
            return State.FAILED
        return State.CANCELLED

    @property
    def waits_for_operator(self) -> bool:
        """A pause by the scheduler resumes on its own; an operator's waits for `resume`."""
        return self.action is Action.HALT or self.manual
