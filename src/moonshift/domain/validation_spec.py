"""``validation:`` in a copy's spec: which perspectives prove the copy, and whether a
completed copy is validated on its own (``auto``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from moonshift.domain.spec_base import Flag, SpecModel, Whole


class Perspective(StrEnum):
    STRUCTURAL = "structural"  # the target's schema against the plan
    ROW_LEVEL = "row_level"  # every row, by key, through checksums of key ranges
    REFERENTIAL = "referential"  # orphans per foreign key on the target


class ValidationSpec(SpecModel):
    auto: Flag = False  # a completed copy moves to validating and ends certified or failed
    perspectives: tuple[Perspective, ...] = tuple(Perspective)
    # how many divergences each perspective keeps (their count is always whole)
    max_divergences: Whole = Field(default=1000, ge=1, le=100_000)
    # a key range with at most this many rows is compared row by row, not split again
    leaf_rows: Whole = Field(default=2000, ge=1, le=1_000_000)

    @field_validator("perspectives")
    @classmethod
    def _some(cls, value: tuple[Perspective, ...]) -> tuple[Perspective, ...]:
        if not value:
            raise ValueError("name at least one perspective; leave it out for all of them")
        if len(set(value)) != len(value):
            raise ValueError("names a perspective twice")
        return value
