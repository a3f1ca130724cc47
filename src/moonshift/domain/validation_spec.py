"""``validation:`` in a copy's spec: which perspectives prove the copy, their rules, and
whether a completed copy is validated on its own (``auto``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from moonshift.domain.spec_base import FieldProblem, Flag, Number, SpecModel, Whole

ENGINES = ("postgresql", "mysql", "sqlite")


class Perspective(StrEnum):
    STRUCTURAL = "structural"  # the target's schema against the plan
    STATISTICAL = "statistical"  # per-column profiles of both sides
    ROW_LEVEL = "row_level"  # every row, by key, through checksums of key ranges
    REFERENTIAL = "referential"  # orphans per foreign key on the target
    SEMANTIC = "semantic"  # business rules: SQL assertions
    BEHAVIORAL = "behavioral"  # queries on both sides, answers compared


class ColumnThreshold(SpecModel):
    """How far a column's profile may differ between the sides (relative: 0.01 is 1%)."""

    tolerance: Number = Field(default=0.0, ge=0.0, le=1.0)


class StatisticalSpec(SpecModel):
    # per column ("table.column" or "column"): its tolerance; other columns: ``tolerance``
    columns: dict[str, ColumnThreshold] = Field(default_factory=dict)
    tolerance: Number = Field(default=0.0, ge=0.0, le=1.0)
    buckets: Whole = Field(default=10, ge=1, le=1000)  # histogram of integer columns

    def tolerance_of(self, table: str, column: str) -> float:
        found = self.columns.get(f"{table}.{column}") or self.columns.get(column)
        return found.tolerance if found else self.tolerance


class RuleSpec(SpecModel):
    """A business rule: an SQL query whose first value is checked, on the target against
    ``expect``, or on both sides against each other (``compare: source``)."""

    name: str = Field(min_length=1, max_length=200)
    sql: str = Field(min_length=1)
    source_sql: str | None = None  # the query on the source, when it is spelled otherwise
    expect: float | str | None = None
    compare: str | None = Field(default=None, pattern="^source$")
    tolerance: Number = Field(default=0.0, ge=0.0)  # relative, for numbers

    @model_validator(mode="after")
    def _one_check(self) -> RuleSpec:
        if (self.expect is None) == (self.compare is None):
            raise FieldProblem("expect", "give either expect: VALUE or compare: source")
        return self


class QuerySpec(SpecModel):
    """A query run on both sides; the answers are compared as sets of rows. ``engines``
    gives it per engine where the source's spelling does not run on the target."""

    name: str = Field(min_length=1, max_length=200)
    sql: str | None = None
    engines: dict[str, str] = Field(default_factory=dict)

    @field_validator("engines")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        for engine in value:
            if engine not in ENGINES:
                raise ValueError(f'unknown engine "{engine}"; one of {", ".join(ENGINES)}')
        return value

    @model_validator(mode="after")
    def _some_sql(self) -> QuerySpec:
        if self.sql is None and not self.engines:
            raise FieldProblem("sql", "give sql, or engines: {ENGINE: SQL}")
        return self

    def for_engine(self, engine: str) -> str | None:
        return self.engines.get(engine, self.sql)


class ValidationSpec(SpecModel):
    auto: Flag = False  # a completed copy moves to validating and ends certified or failed
    perspectives: tuple[Perspective, ...] = tuple(Perspective)
    # how many divergences each perspective keeps (their count is always whole)
    max_divergences: Whole = Field(default=1000, ge=1, le=100_000)
    # a key range with at most this many rows is compared row by row, not split again
    leaf_rows: Whole = Field(default=2000, ge=1, le=1_000_000)
    statistical: StatisticalSpec = Field(default_factory=StatisticalSpec)
    rules: tuple[RuleSpec, ...] = ()
    queries: tuple[QuerySpec, ...] = ()
    queries_file: str | None = None  # a YAML list of queries, read when validation runs

    @field_validator("perspectives")
    @classmethod
    def _some(cls, value: tuple[Perspective, ...]) -> tuple[Perspective, ...]:
        if not value:
            raise ValueError("name at least one perspective; leave it out for all of them")
        if len(set(value)) != len(value):
            raise ValueError("names a perspective twice")
        return value
