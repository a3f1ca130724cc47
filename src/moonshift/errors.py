"""The errors moonshift raises, by kind. None of them knows a face: the CLI turns kinds into
exit codes, the REST API into HTTP statuses, the dashboard into pages."""

from __future__ import annotations


class MoonshiftError(Exception):
    """Base of moonshift's errors; raise one of its kinds."""


class NotFound(MoonshiftError):
    """A migration, run, backfill or queued row that does not exist."""


class Conflict(MoonshiftError):
    """The request is understood but the current state refuses it (an active run, a step
    the lifecycle does not allow, a copy whose plan has problems)."""


class InvalidInput(MoonshiftError):
    """Bad input, named by its field in the domain's words (``status``, ``end``); nothing
    was changed. ``field`` is None when the input as a whole is wrong."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}" if field else reason)


class Unavailable(MoonshiftError):
    """Something moonshift needs is not there: the state store, a running daemon."""


class TransientError(MoonshiftError):
    """A failure worth retrying: a lost connection, a deadlock, a serialization failure."""


class TerminalError(MoonshiftError):
    """A failure that retrying will not mend (the data, the schema, the spec): fail now and
    say what to change."""
