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


class PreconditionFailed(Conflict):
    """The caller changed something it had read, but it changed since (a stale version)."""


class Unauthenticated(MoonshiftError):
    """No credentials, or credentials that name no one (an unknown or revoked key)."""


class Forbidden(MoonshiftError):
    """Known credentials whose scope does not allow what was asked."""


class Unavailable(MoonshiftError):
    """Something moonshift needs is not there: the state store, a running daemon."""


class TransientError(MoonshiftError):
    """A failure worth retrying: a lost connection, a deadlock, a serialization failure."""


class TerminalError(MoonshiftError):
    """A failure that retrying will not mend (the data, the schema, the spec): fail now and
    say what to change."""


def first_line(exc: BaseException) -> str:
    """What a user is shown of ``exc``: the first line of its message (drivers append
    context, hints and whole statements below it), else its type's name, as some drivers
    raise with no message at all."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
