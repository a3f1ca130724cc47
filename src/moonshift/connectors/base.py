"""The connector seam: what the copy engine needs from a database, and what it gets back.

Every engine moonshift reads or writes (PostgreSQL, MariaDB/MySQL, SQLite) is described by
the same records, so the planner and the copy engine never branch on the engine's name; a
connector declares what it can do in ``Capabilities``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moonshift.errors import TerminalError, TransientError

if TYPE_CHECKING:
    from moonshift.connectors.types import SqlType


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
    parallel_writes: bool = True  # several connections may write at once
    transactional_ddl: bool = False  # CREATE/DROP TABLE roll back with the transaction
    schemas: bool = False  # tables live in named schemas


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)


class Connector(ABC):
    """One database engine, as the copy engine uses it.

    A connector opens DB-API connections in manual-transaction mode and builds the SQL that
    differs between engines; everything else (batches, checkpoints, error isolation) lives in
    ``moonshift.copy`` and is the same for every engine. To add an engine, subclass
    ``moonshift.connectors.sql.SqlConnector``, declare its ``Capabilities``, give its type
    parser and mapping table in ``connectors.types`` and its codecs in ``connectors.values``.
    """

    engine: str  # "postgresql", "mysql" or "sqlite": the key of the type tables
    capabilities: Capabilities
    placeholder: str  # the driver's parameter marker: "%s" or "?"

    @abstractmethod
    def connect(self) -> Any:
        """A new DB-API connection; nothing is committed until ``commit()``."""

    @abstractmethod
    def read_schema(self) -> Schema:
        """Every table with its columns (as the engine spells their types), keys and FKs."""

    @abstractmethod
    def parse_type(self, column: Column) -> SqlType:
        """A column's type as a family with its size (``connectors.types``); raises
        UnknownTypeError for a type with no mapping."""

    @abstractmethod
    def quote(self, name: str) -> str:
        """An identifier, quoted for this engine."""

    @abstractmethod
    def begin(self, conn: Any) -> None:
        """Start a write transaction."""

    @abstractmethod
    def begin_snapshot(self, conn: Any) -> None:
        """Start a read transaction that sees one snapshot until it ends."""

    @abstractmethod
    def translate(self, exc: BaseException) -> TransientError | TerminalError:
        """A driver's failure as its kind: TransientError for what is worth retrying (a lost
        connection, a deadlock, a serialization failure); TerminalError for anything about
        the data or the schema, which retrying will not help."""

    @abstractmethod
    def insert_sql(self, table: str, columns: Sequence[str]) -> str: ...

    @abstractmethod
    def upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """INSERT that replaces the row with the same key."""

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Any]
    ) -> None:
        """Insert rows (the driver's values) inside the open transaction, all or none."""
        cursor.executemany(self.insert_sql(table, columns), rows)

    @abstractmethod
    def truncate(self, conn: Any, table: str) -> None: ...

    @abstractmethod
    def create_table_sql(
        self, table: str, columns: Sequence[tuple[str, str, bool]], key: Sequence[str]
    ) -> str:
        """CREATE TABLE for (name, type, nullable) columns with ``key`` as primary key."""

    def copy_from(
        self,
        source: Connector,
        source_conn: Any,
        select_sql: str,
        conn: Any,
        table: str,
        columns: Sequence[str],
        *,
        stop: Callable[[], bool],
    ) -> tuple[int, float]:
        """Binary COPY of a source query into a table, inside the open transaction (both
        engines with ``binary_copy``). Returns (rows written, seconds spent waiting for the
        source). Raises Stopped, leaving nothing written, when ``stop`` says so."""
        rows = source.copy_out(source_conn, select_sql)
        return self.copy_in(conn, table, columns, _checked(rows, stop)), 0.0

    def copy_out(self, conn: Any, select_sql: str) -> Iterator[bytes]:
        """Binary COPY of a query's rows (engines with ``binary_copy``)."""
        raise NotImplementedError

    def copy_in(
        self, conn: Any, table: str, columns: Sequence[str], chunks: Iterable[bytes]
    ) -> int:
        """Binary COPY into a table inside the open transaction (``binary_copy``); returns
        the rows written."""
        raise NotImplementedError


def classified(exc: BaseException, transient: bool) -> TransientError | TerminalError:
    """``exc`` as a moonshift error of its kind, with its first line as the message."""
    if isinstance(exc, TransientError | TerminalError):
        return exc
    text = str(exc).strip()
    kind = TransientError if transient else TerminalError
    error = kind(text.splitlines()[0] if text else type(exc).__name__)
    error.__cause__ = exc
    return error


class Stopped(Exception):
    """A COPY was ended because it was told to stop; nothing of it was written."""


def _checked(rows: Iterator[bytes], stop: Callable[[], bool]) -> Iterator[bytes]:
    for count, row in enumerate(rows, 1):
        if not count % 4096 and stop():
            raise Stopped()
        yield row
