"""The lifecycle of a run: states, the transitions allowed between them, and their verbs.

Every run walks this graph (see docs/lifecycle.md). A transition not in the table is an
error that names the current state, the requested one and the allowed ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from moonshift.errors import Conflict


class State(StrEnum):
    CREATED = "created"
    ANALYZING = "analyzing"
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    VALIDATING = "validating"
    CERTIFIED = "certified"
    FAILED = "failed"
    CANCELLED = "cancelled"


S = State

# from-state -> {to-state: verb}. The verb is what the audit log calls the step.
TRANSITIONS: Mapping[State, Mapping[State, str]] = MappingProxyType(
    {
        S.CREATED: {S.ANALYZING: "start", S.CANCELLED: "cancel"},
        S.ANALYZING: {S.PLANNING: "analyze", S.FAILED: "fail", S.CANCELLED: "cancel"},
        S.PLANNING: {S.AWAITING_APPROVAL: "plan", S.FAILED: "fail", S.CANCELLED: "cancel"},
        # A change of spec, source schema or mapping voids the approvals: plan again.
        S.AWAITING_APPROVAL: {S.APPROVED: "approve", S.PLANNING: "replan", S.CANCELLED: "cancel"},
        S.APPROVED: {
            S.RUNNING: "execute",
            S.PLANNING: "replan",
            S.FAILED: "fail",
            S.CANCELLED: "cancel",
        },
        S.RUNNING: {
            S.PAUSED: "pause",
            S.COMPLETED: "complete",
            S.FAILED: "fail",
            S.CANCELLED: "cancel",
        },
        S.PAUSED: {S.RUNNING: "resume", S.FAILED: "fail", S.CANCELLED: "cancel"},
        S.COMPLETED: {S.VALIDATING: "validate"},
        S.VALIDATING: {S.CERTIFIED: "certify", S.FAILED: "fail"},
        S.CERTIFIED: {},
        S.FAILED: {},
        S.CANCELLED: {},
    }
)

TERMINAL: frozenset[State] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# A run that is neither finished nor merely waiting for validation holds its migration busy.
ACTIVE: frozenset[State] = frozenset(State) - TERMINAL - {S.COMPLETED}
# The states a run passes through on its way from created to running, in order.
PREPARATION: tuple[State, ...] = (
    S.ANALYZING,
    S.PLANNING,
    S.AWAITING_APPROVAL,
    S.APPROVED,
    S.RUNNING,
)
# What counts as success: the work is done (a copy may be validated and certified after).
SUCCEEDED: frozenset[State] = frozenset({S.COMPLETED, S.CERTIFIED})
ENDED_BADLY: frozenset[State] = frozenset({S.FAILED, S.CANCELLED})
ENDED: frozenset[State] = SUCCEEDED | ENDED_BADLY
# Queued or on its way to its end: neither paused, nor waiting for validation, nor ended.
UNDER_WAY: frozenset[State] = frozenset({S.CREATED, *PREPARATION})
# A run waiting for people holds no worker: a worker parks it and lets go.
WAITING_FOR_APPROVAL: frozenset[State] = frozenset({S.AWAITING_APPROVAL})
# States in which a run holds a worker (or would, once its lease is taken over).
WORKING: frozenset[State] = ACTIVE - {S.CREATED, S.PAUSED} - WAITING_FOR_APPROVAL
# Before running a run has written nothing: a run whose worker is lost in one of these
# states is prepared again by the next worker (analyzed, planned, started), whatever its kind.
PREPARING: frozenset[State] = frozenset({S.ANALYZING, S.PLANNING, S.APPROVED})
# States from which a daemon starts a worker for a run that no worker holds: queued, paused
# with a time to resume, approved, sent back to planning, or left preparing by a lost worker.
DISPATCHABLE: frozenset[State] = frozenset({S.CREATED, S.PAUSED, *PREPARING})


class IllegalTransitionError(Conflict):
    """A transition that the lifecycle table does not allow."""

    def __init__(self, current: State, requested: State) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(TRANSITIONS[current])
        allowed = ", ".join(self.allowed) or "none: it is final"
        super().__init__(
            f"cannot move a run from {current} to {requested}; allowed from {current}: {allowed}"
        )


def verb(current: State, requested: State) -> str:
    """The name of the step from ``current`` to ``requested``; raises when it is not allowed."""
    try:
        return TRANSITIONS[current][requested]
    except KeyError:
        raise IllegalTransitionError(current, requested) from None


def allowed(current: State) -> tuple[State, ...]:
    return tuple(TRANSITIONS[current])
