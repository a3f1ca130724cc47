"""The ``copy:`` block of a migration: which tables, how they are read and written."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from moonshift.domain.spec_base import FieldProblem, Flag, Lasting, Number, SpecModel, Whole

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
# Rows per batch (one target transaction with its checkpoint) when the spec names none. A
# batch streamed from server to server (PostgreSQL to PostgreSQL) holds none of its rows in
# moonshift, so only its transaction's length bounds it: larger batches, fewer round trips.
BATCH_ROWS = 50_000
STREAMED_BATCH_ROWS = 250_000


class CreateTarget(StrEnum):
    IF_MISSING = "if_missing"  # create a table the target lacks
    ALWAYS = "always"  # drop and create every table (same as target_prep drop_create)
    NEVER = "never"  # the target's tables must exist


class TargetPrep(StrEnum):
    NONE = "none"  # write into the table as it is
    TRUNCATE = "truncate"  # empty it first (children first)
    DROP_CREATE = "drop_create"  # drop it and create it anew


class Mode(StrEnum):
    FULL = "full"  # every row, in key order
    INCREMENTAL = "incremental"  # rows whose cursor is at or after the watermark, upserted


class OnExceed(StrEnum):
    FAIL = "fail"
    PAUSE = "pause"


def _identifier(value: str, what: str = "a table or column name") -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f'must be {what} (letters, digits, "_", "$"), got "{value}"')
    return value


class ErrorPolicy(SpecModel):
    """How many bad rows a copy may set aside in its error queue before it stops."""

    max_errors: Whole = Field(default=100, ge=0)
    max_error_rate: Number = Field(default=0.01, ge=0, le=1)
    on_exceed: OnExceed = OnExceed.FAIL


class ColumnSpec(SpecModel):
    """What to do with one column: leave it out, rename it, give it a target type, or fill
    it from an SQL expression evaluated on the source."""

    exclude: Flag = False
    rename: str | None = None  # the target column's name
    cast: str | None = None  # the target column's type, in the target's SQL
    expr: str | None = None  # an SQL expression on the source (a new column's value, or this one's)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"rename": data} if isinstance(data, str) else data

    @field_validator("rename")
    @classmethod
    def _rename(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @field_validator("cast", "expr")
    @classmethod
    def _sql(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or ";" in value):
            raise ValueError("must be one SQL type or expression (no ;)")
        return value

    @model_validator(mode="after")
    def _alone(self) -> ColumnSpec:
        if self.exclude and (self.rename or self.cast or self.expr):
            raise ValueError("exclude: true leaves the column out; it takes no other option")
        return self


class TableOptions(SpecModel):
    """How one table is copied: its target name, key, filter and column options."""

    target: str | None = None
    key: tuple[str, ...] | None = None  # the columns that identify a row (default: its key)
    # column -> options (a string renames it); columns not named are copied as they are
    columns: dict[str, ColumnSpec] | None = None
    where: str | None = None  # an SQL condition on the source, as written

    @field_validator("target")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("must name at least one column")
            for name in value:
                _identifier(str(name))
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, ColumnSpec] | None) -> dict[str, ColumnSpec] | None:
        if value is not None:
            if not value:
                raise ValueError("must name at least one column")
            for name in value:
                _identifier(name)
        return value

    def column(self, name: str) -> ColumnSpec:
        return (self.columns or {}).get(name) or ColumnSpec()

    def mapped(
        self, source: str, target: str, column: str | None, target_column: str | None
    ) -> Self:
        """These options with the table written to ``target`` and, given a column, that
        column to ``target_column`` (a name equal to the source's is no rename)."""
        update: dict[str, Any] = {"target": None if target == source else target}
        if column is not None:
            rename = None if target_column in (None, column) else target_column
            option = self.column(column).model_copy(update={"rename": rename})
            update["columns"] = {**(self.columns or {}), column: option}
        return self.model_copy(update=update)


class TableSpec(TableOptions):
    """One table to copy: a name, or a mapping that renames it, sets its key, filters its
    rows or sets options on its columns."""

    source: str

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"source": data} if isinstance(data, str) else data

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        return _identifier(value)

    @property
    def target_name(self) -> str:
        return self.target or self.source


class CopySpec(SpecModel):
    tables: tuple[TableSpec, ...] | None = None  # None ("*" in a spec): every table
    exclude: tuple[str, ...] = ()
    # options per table, by source name, for tables that "*" chose
    overrides: dict[str, TableOptions] = Field(default_factory=dict)
    batch_size: Whole | None = Field(default=None, ge=1, le=10_000_000)  # None: batch_rows
    parallel: Whole = Field(default=2, ge=1, le=64)
    create_target: CreateTarget = CreateTarget.IF_MISSING
    target_prep: TargetPrep = TargetPrep.NONE
    mode: Mode = Mode.FULL
    cursor: str | None = None
    snapshot: Flag = False
    # Columns (``table.column`` or ``column``) whose values the error queue masks.
    redact: tuple[str, ...] = ()
    # Lossy type mappings become warnings: true for all, or a list of ``table.column``.
    allow_lossy: Flag | tuple[str, ...] = False
    error_policy: ErrorPolicy = Field(default_factory=ErrorPolicy)
    # A table without a primary or unique key is copied in one transaction, up to this size.
    keyless_max_rows: Whole = Field(default=1_000_000, ge=0)
    max_retries: Whole = Field(default=5, ge=0, le=100)
    retry_backoff: Lasting = timedelta(seconds=1)
    bookkeeping_table: str = "_moonshift_checkpoints"

    def batch_rows(self, streamed: bool) -> int:
        """Rows per batch: the spec's ``batch_size``, else the default of the batch's path."""
        return self.batch_size or (STREAMED_BATCH_ROWS if streamed else BATCH_ROWS)

    @field_validator("tables", mode="before")
    @classmethod
    def _tables(cls, value: Any) -> Any:
        if value == "*":
            return None
        if isinstance(value, str):
            raise ValueError('must be "*" (every table) or a list of tables')
        if isinstance(value, list) and not value:
            raise ValueError('must list at least one table, or be "*"')
        return value

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_identifier(v) for v in value)

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, value: dict[str, TableOptions]) -> dict[str, TableOptions]:
        for name in value:
            _identifier(name)
        return value

    @field_validator("cursor", "bookkeeping_table")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @model_validator(mode="after")
    def _consistent(self) -> CopySpec:
        if self.mode is Mode.INCREMENTAL and not self.cursor:
            raise FieldProblem("copy.cursor", "is required when mode is incremental")
        if self.mode is Mode.INCREMENTAL and self.target_prep is not TargetPrep.NONE:
            raise FieldProblem(
                "copy.target_prep",
                "must be none when mode is incremental (it would empty the tables every pass)",
            )
        if self.cursor and self.mode is Mode.FULL:
            raise FieldProblem("copy.cursor", "is only used when mode is incremental")
        if self.tables is not None:
            seen: set[str] = set()
            for index, table in enumerate(self.tables):
                if table.target_name in seen:
                    raise FieldProblem(
                        f"copy.tables[{index}]", f'writes table "{table.target_name}" twice'
                    )
                seen.add(table.target_name)
                if table.source in self.overrides:
                    raise FieldProblem(
                        f"copy.overrides.{table.source}",
                        "this table is listed in copy.tables: give its options there",
                    )
        for name in self.overrides:
            if name in self.exclude:
                raise FieldProblem(f"copy.overrides.{name}", "this table is in copy.exclude")
        return self

    def table_specs(self, available: list[str]) -> list[TableSpec]:
        """The tables to copy, given the source's table names (``*``: all but excluded)."""
        chosen = (
            [
                TableSpec(source=name, **self.overrides[name].model_dump(exclude_unset=True))
                if name in self.overrides
                else TableSpec(source=name)
                for name in sorted(available)
            ]
            if self.tables is None
            else list(self.tables)
        )
        return [t for t in chosen if t.source not in self.exclude]

    def with_mapping(
        self, source: str, target: str, column: str | None = None, target_column: str | None = None
    ) -> CopySpec:
        """This spec with source table ``source`` written to table ``target`` and, given a
        column, that column to ``target_column``: in its entry of ``tables``, or (every
        table chosen by "*") in ``overrides``."""
        if self.tables is None:
            options = self.overrides.get(source) or TableOptions()
            overrides = {
                **self.overrides,
                source: options.mapped(source, target, column, target_column),
            }
            return self.model_copy(update={"overrides": overrides})
        if not any(t.source == source for t in self.tables):
            raise FieldProblem("copy.tables", f'no table "{source}" is copied')
        tables = tuple(
            t.mapped(source, target, column, target_column) if t.source == source else t
            for t in self.tables
        )
        return self.model_copy(update={"tables": tables})

    def lossy_allowed(self, table: str, column: str) -> bool:
        if isinstance(self.allow_lossy, bool):
            return self.allow_lossy
        return f"{table}.{column}" in self.allow_lossy or column in self.allow_lossy

    def redacted(self, table: str, column: str) -> bool:
        return f"{table}.{column}" in self.redact or column in self.redact
