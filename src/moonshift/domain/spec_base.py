"""What every spec model shares: immutability, strictness, durations and slugs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, Strict

from moonshift.domain.durations import format_duration, parse_duration

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class FieldProblem(ValueError):
    """A problem found by a model-level check, with the field path it belongs to."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _slug(value: object) -> object:
    if isinstance(value, str) and not re.match(SLUG_PATTERN, value):
        raise ValueError(
            f'must be a slug (lowercase letters, digits, "-" and "_", at most 63), got "{value}"'
        )
    return value


Slug = Annotated[str, BeforeValidator(_slug)]
# Strict scalars: YAML's ``true`` is not the number 1, nor ``1`` a yes.
Whole = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
_CALLABLE = rf"^{_DOTTED}:{_DOTTED}$"


def _callable_path(value: object) -> object:
    if isinstance(value, str) and not re.match(_CALLABLE, value):
        raise ValueError(f'must be package.module:function, got "{value}"')
    return value


CallablePath = Annotated[str, BeforeValidator(_callable_path)]
Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]


def _longer_than_zero(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


# A duration that zero would make meaningless (an interval, a timeout, a backoff).
Lasting = Annotated[Duration, AfterValidator(_longer_than_zero)]


class SpecModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
