"""The connector seam: what the copy engine needs from a database, and what it gets back.

Every engine moonshift reads or writes (PostgreSQL, MariaDB/MySQL, SQLite) is described by
the same records, so the planner and the copy engine never branch on the engine's name; a
connector declares what it can do in ``Capabilities``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the engine's own type, as it reports it (e.g. "NUMERIC(38, 10)")
    nullable: bool
    default: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def key(self) -> tuple[str, ...] | None:
        """The columns that identify a row (the primary key, else the first unique key)."""
        return self.primary_key or (self.unique_keys[0] if self.unique_keys else None)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Capabilities:
    binary_copy: bool = False  # COPY ... (FORMAT binary) in and out
    load_data: bool = False  # LOAD DATA LOCAL INFILE
    transactional_ddl: bool = False  # CREATE/DROP TABLE roll back with the transaction
    schemas: bool = False  # tables live in named schemas


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
