"""What a connector needs to write DDL: a created column, index or foreign key, already in
the target's terms (names, types and expressions as the target spells them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    generated: str | None = None  # an expression: a generated column
    stored: bool = True
    # "always" / "by default" (identity), "auto_increment", or None
    identity: str | None = None
    identity_options: str | None = None  # PostgreSQL: "(SEQUENCE NAME ... START WITH ...)"


@dataclass(frozen=True)
class IndexDef:
    name: str
    keys: tuple[str, ...]  # each key part as SQL (quoted column, expression, prefix)
    unique: bool = False
    method: str | None = None  # "gin", "fulltext", ...
    where: str | None = None
    include: str | None = None  # PostgreSQL: the index's own key list, INCLUDE and all


@dataclass(frozen=True)
class ForeignKeyDef:
    name: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: tuple[ColumnDef, ...]
    key: tuple[str, ...] = ()  # created with the table; empty when it is a later phase
    key_name: str | None = None
    checks: tuple[tuple[str, str], ...] = ()  # (name, expression) created with the table
    foreign_keys: tuple[ForeignKeyDef, ...] = ()  # created with the table
    inherits: tuple[str, ...] = ()
    partition_by: str | None = None
