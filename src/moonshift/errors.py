"""The errors moonshift raises, each with the exit code the CLI gives it."""

from __future__ import annotations


class MoonshiftError(Exception):
    """Base of moonshift's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(MoonshiftError):
    """Bad input: nothing was changed."""

    exit_code = 2


class NotFoundError(InputError):
    """A migration or run id that does not exist."""


class OperationFailedError(MoonshiftError):
    """The operation was understood but did not succeed (a run failed, a refusal)."""


class StateStoreError(MoonshiftError):
    """The state store cannot be used (unreachable, or its schema is newer than this code)."""
