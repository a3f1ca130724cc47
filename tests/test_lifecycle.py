"""Every allowed transition is allowed, every other one refused with a clear error."""

import itertools

import pytest

from moonshift.domain.lifecycle import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    IllegalTransitionError,
    State,
    verb,
)

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a, b in itertools.product(State, State) if b not in TRANSITIONS[a]]

# The transitions of the lifecycle document, written out by hand so the table is checked
# against an independent statement of it.
EXPECTED = {
    ("created", "analyzing"),
    ("created", "cancelled"),
    ("analyzing", "planning"),
    ("analyzing", "failed"),
    ("analyzing", "cancelled"),
    ("planning", "awaiting_approval"),
    ("planning", "failed"),
    ("planning", "cancelled"),
    ("awaiting_approval", "approved"),
    ("awaiting_approval", "cancelled"),
    ("awaiting_approval", "planning"),
    ("approved", "running"),
    ("approved", "planning"),
    ("approved", "failed"),
    ("approved", "cancelled"),
    ("running", "paused"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("paused", "running"),
    ("paused", "failed"),
    ("paused", "cancelled"),
    ("completed", "validating"),
    ("validating", "certified"),
    ("validating", "failed"),
}


def test_table_is_the_documented_one() -> None:
    assert {(a.value, b.value) for a, b in ALLOWED} == EXPECTED
    assert len(ALLOWED) + len(FORBIDDEN) == len(State) ** 2


@pytest.mark.parametrize(("current", "requested"), ALLOWED)
def test_allowed(current: State, requested: State) -> None:
    assert verb(current, requested)


@pytest.mark.parametrize(("current", "requested"), FORBIDDEN)
def test_forbidden(current: State, requested: State) -> None:
    with pytest.raises(IllegalTransitionError) as raised:
        verb(current, requested)
    message = str(raised.value)
    assert f"from {current} to {requested}" in message
    for target in TRANSITIONS[current]:
        assert target.value in message
    if not TRANSITIONS[current]:
        assert "final" in message


def test_terminal_and_active_states() -> None:
    assert {State.CERTIFIED, State.FAILED, State.CANCELLED} == TERMINAL
    assert State.COMPLETED not in ACTIVE
    assert State.RUNNING in ACTIVE
    assert State.PAUSED in ACTIVE
