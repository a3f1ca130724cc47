"""The connector seam: what the copy engine needs from a database, and what it gets back.

Every engine moonshift reads or writes (PostgreSQL, MariaDB/MySQL, SQLite) is described by
the same records, so the planner and the copy engine never branch on the engine's name; a
connector declares what it can do in ``Capabilities``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moonshift.domain.secrets import without_secret
from moonshift.errors import TerminalError, TransientError, Unavailable, first_line

if TYPE_CHECKING:
    from moonshift.connectors.ddl import ColumnDef, ForeignKeyDef, IndexDef, TableDef
    from moonshift.connectors.types import SqlType


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: its expression as the engine spells it, without ``CHECK``."""

    expression: str
    name: str | None = None


@dataclass(frozen=True)
class UserType:
    """A type the database defines (PostgreSQL): an enum, a domain, a composite type."""

    name: str
    kind: str  # "enum", "domain", "composite", "range" or "other"
    labels: tuple[str, ...] = ()  # enum
    base: str | None = None  # domain: the base type, as the engine spells it
    base_type: UserType | None = None  # domain over an enum or another domain
    not_null: bool = False  # domain
    default: str | None = None  # domain
    checks: tuple[Check, ...] = ()  # domain: expressions on VALUE
    attributes: tuple[tuple[str, str], ...] = ()  # composite: (name, type)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the engine's own type, as it reports it (e.g. "NUMERIC(38, 10)")
    nullable: bool
    default: str | None = None  # as the engine spells it
    generated: str | None = None  # a generated column's expression
    stored: bool = True  # a generated column is stored (else virtual)
    # How the engine numbers new rows: "always" or "by default" (identity), "serial" (a
    # sequence default), "auto_increment", or "rowid" (SQLite's INTEGER PRIMARY KEY).
    identity: str | None = None
    sequence: str | None = None  # PostgreSQL: the sequence that numbers it
    user_type: UserType | None = None  # PostgreSQL: its type's (or element's) definition
    charset: str | None = None  # MariaDB/MySQL: a text column's character set


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    name: str | None = None
    on_delete: str | None = None  # "CASCADE", "SET NULL", ...; None: NO ACTION
    on_update: str | None = None


@dataclass(frozen=True)
class Index:
    """A secondary index or a UNIQUE constraint (not the primary key)."""

    name: str
    columns: tuple[str | None, ...]  # None for an expression part
    unique: bool = False
    constraint: bool = False  # a UNIQUE constraint rather than an index
    expressions: tuple[str, ...] = ()  # the key parts, spelled, where any is an expression
    where: str | None = None  # a partial index's condition
    method: str | None = None  # PostgreSQL's access method when not btree ("gin", ...)
    definition: str | None = None  # the engine's own key list, for copies to the same engine
    prefix: tuple[int | None, ...] = ()  # MySQL: the prefix length of each part


@dataclass(frozen=True)
class Partition:
    name: str
    bound: str  # PostgreSQL's "FOR VALUES ..." or "DEFAULT"
    partitioning: Partitioning | None = None  # a partition that is partitioned again


@dataclass(frozen=True)
class Partitioning:
    key: str  # PostgreSQL's partition key, e.g. "RANGE (at)"
    partitions: tuple[Partition, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    primary_key_name: str | None = None
    indexes: tuple[Index, ...] = ()
    checks: tuple[Check, ...] = ()
    partitioning: Partitioning | None = None  # a partitioned table (its rows: its partitions')
    partition_of: str | None = None  # a partition: its rows are read through this table
    inherits: tuple[str, ...] = ()  # PostgreSQL inheritance parents
    local_columns: tuple[str, ...] | None = None  # an inheriting table's own columns
    only: bool = False  # read with FROM ONLY: other tables inherit from it

    @property
    def key(self) -> tuple[str, ...] | None:
        """The columns that identify a row (the primary key, else the first unique key)."""
        return self.primary_key or (self.unique_keys[0] if self.unique_keys else None)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


@dataclass(frozen=True)
class Capabilities:
    binary_copy: bool = False  # COPY ... (FORMAT binary) in and out
    load_data: bool = False  # LOAD DATA LOCAL INFILE
    parallel_writes: bool = True  # several connections may write at once
    transactional_ddl: bool = False  # CREATE/DROP TABLE roll back with the transaction
    schemas: bool = False  # tables live in named schemas
    alter_constraints: bool = True  # checks and foreign keys can be added to a table later
    deferred_key: bool = False  # a primary key built after the load is cheaper
    partial_indexes: bool = True  # CREATE INDEX ... WHERE
    expression_indexes: bool = True  # an index on an expression
    prefix_keys: bool = False  # long text is indexed by a prefix of it (MySQL)


@dataclass(frozen=True)
class SequenceDef:
    """A PostgreSQL sequence; ``next_value`` is what nextval would return now."""

    name: str
    data_type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cache: int
    cycle: bool
    next_value: int


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    types: dict[str, UserType] = field(default_factory=dict)
    sequences: dict[str, SequenceDef] = field(default_factory=dict)


class Connector(ABC):
    """One database engine, as the copy engine uses it.

    A connector opens DB-API connections in manual-transaction mode and builds the SQL that
    differs between engines; everything else (batches, checkpoints, error isolation) lives in
    ``moonshift.copy`` and is the same for every engine. To add an engine, subclass
    ``moonshift.connectors.sql.SqlConnector``, declare its ``Capabilities``, read its
    ``catalog``, give its type parser in ``connectors.types``, its rows in the pair tables
    of ``connectors.typemap`` and its codecs in ``connectors.values``; override the DDL
    below where its SQL differs from the standard's.
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
    def catalog(self, conn: Any) -> Schema:
        """``read_schema`` through an open connection."""

    def stored_type(self, conn: Any, table: str, column: Column) -> str | None:
        """For a column declared without a type (SQLite), the type its values have; None
        where every column has its type."""
        return None

    @abstractmethod
    def parse_type(self, column: Column) -> SqlType:
        """A column's type as a family with its size (``connectors.types``); raises
        UnknownTypeError for a type with no mapping."""

    @abstractmethod
    def quote(self, name: str) -> str:
        """An identifier, quoted for this engine."""

    # -- what a plan's risk assessment asks (moonshift.copy.risks) --------------------------

    triggers_sql: str | None = None  # rows of (table, trigger name) of every user trigger
    # rows of (who, seconds open) of transactions open longer than %(seconds)s; None: the
    # engine has none that hold back others (SQLite)
    long_transactions_sql: str | None = None

    # -- what planning asks -------------------------------------------------------------------

    # one row: the catalogue's count of rows of the table named by the one parameter (from
    # its statistics, so it may be stale), or NULL or a negative number when it keeps none
    estimated_rows_sql: str | None = None

    def estimated_rows(self, conn: Any, table: str) -> int | None:
        """The catalogue's (or another cheap) estimate of ``table``'s rows; None if none."""
        if not self.estimated_rows_sql:
            return None
        cursor = conn.cursor()
        try:
            cursor.execute(self.estimated_rows_sql, [table])
            row = cursor.fetchone()
        finally:
            conn.rollback()
        return None if row is None or row[0] is None or row[0] < 0 else int(row[0])

    def triggers(self, conn: Any) -> dict[str, list[str]]:
        """Table -> the names of the triggers on it."""
        found: dict[str, list[str]] = {}
        for table, name in self._rows(conn, self.triggers_sql):
            found.setdefault(str(table), []).append(str(name))
        return found

    def long_transactions(self, conn: Any, seconds: float) -> list[tuple[str, float]]:
        """Transactions open longer than ``seconds`` (who, seconds), other than this one."""
        sql = (self.long_transactions_sql or "").replace("%(seconds)s", str(float(seconds)))
        return [(str(who), float(age)) for who, age in self._rows(conn, sql or None)]

    def _rows(self, conn: Any, sql: str | None) -> list[tuple[Any, ...]]:
        if not sql:
            return []
        cursor = conn.cursor()
        try:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            conn.rollback()

    def compare_sql(self, expression: str) -> str | None:
        """A value as ``verify`` reads it when both sides are this engine: the engine's own
        exact text where the driver's values would not compare (PostgreSQL's enums, ranges,
        arrays of domains); None where the driver's values do."""
        return None

    @abstractmethod
    def begin(self, conn: Any) -> None:
        """Start a write transaction."""

    def commit_batch(self, conn: Any, *, durable: bool) -> None:
        """Commit a batch and its checkpoint. Not ``durable``: the commit need not wait for
        the disk where the engine can say so per transaction; the batch and its checkpoint
        are lost or kept together, and a later durable commit waits for every one before it."""
        conn.commit()

    def writing(self, conn: Any) -> AbstractContextManager[Callable[[], None]]:
        """Around a key range's batches written on ``conn``: what the engine does beside
        them while they are written. What it gives is called before each batch (where the
        engine may hold the writer back for a moment)."""
        return nullcontext(lambda: None)

    def begin_build(self, conn: Any) -> None:
        """Start the transaction of a step after the rows (a key, an index, a check): where
        the engine allows, with more memory for an index build's sort."""
        self.begin(conn)

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

    # -- DDL: the generic spelling (PostgreSQL's); engines override where theirs differs ------

    table_options = ""
    text_read = "CAST({} AS TEXT)"  # a value's text form, on this engine as a source
    # how it numbers new rows of a column that another engine numbered ("by default",
    # "auto_increment"); None: SQLite's INTEGER PRIMARY KEY does it by itself
    identity_kind: str | None = None

    def from_sql(self, table: str, only: bool = False) -> str:
        """A table in a FROM clause; ``only``: without the rows of tables inheriting from it."""
        return self.quote(table)

    def sampled_from(self, from_sql: str, fraction: float) -> str:
        """A FROM clause reading about ``fraction`` of the table's rows, where the engine can
        sample cheaply; ``from_sql`` itself (every row) where it cannot."""
        return from_sql

    def column_sql(self, column: ColumnDef) -> str:
        parts = [self.quote(column.name), column.type]
        if column.generated is not None:
            parts.append(f"GENERATED ALWAYS AS ({column.generated})")
            parts.append("STORED" if column.stored else "VIRTUAL")
        if column.identity in ("always", "by default"):
            parts.append(f"GENERATED {column.identity.upper()} AS IDENTITY")
            if column.identity_options:
                parts.append(column.identity_options)
        if column.default is not None:
            parts.append(f"DEFAULT {column.default}")
        if not column.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def create_table_sql(self, table: TableDef) -> str:
        q = self.quote
        parts = [self.column_sql(c) for c in table.columns]
        if table.key:
            named = f"CONSTRAINT {q(table.key_name)} " if table.key_name else ""
            parts.append(f"{named}PRIMARY KEY ({self._names(table.key)})")
        parts += [f"CONSTRAINT {q(name)} CHECK ({expr})" for name, expr in table.checks]
        parts += [self._foreign_key(fk) for fk in table.foreign_keys]
        sql = f"CREATE TABLE {q(table.name)} (\n  " + ",\n  ".join(parts) + "\n)"
        if table.inherits:
            sql += f" INHERITS ({self._names(table.inherits)})"
        if table.partition_by:
            sql += f" PARTITION BY {table.partition_by}"
        return sql + self.table_options

    def add_primary_key_sql(self, table: str, name: str | None, key: Sequence[str]) -> str:
        named = f"CONSTRAINT {self.quote(name)} " if name else ""
        return f"ALTER TABLE {self.quote(table)} ADD {named}PRIMARY KEY ({self._names(key)})"

    def add_unique_sql(self, table: str, name: str, columns: Sequence[str]) -> str:
        return (
            f"ALTER TABLE {self.quote(table)} ADD CONSTRAINT {self.quote(name)} "
            f"UNIQUE ({self._names(columns)})"
        )

    def create_index_sql(self, table: str, index: IndexDef) -> str:
        kind = "UNIQUE INDEX" if index.unique else "INDEX"
        using = f" USING {index.method}" if index.method else ""
        keys = index.include or "(" + ", ".join(index.keys) + ")"
        where = f" WHERE {index.where}" if index.where else ""
        return f"CREATE {kind} {self.quote(index.name)} ON {self.quote(table)}{using} {keys}{where}"

    def add_check_sql(self, table: str, name: str, expression: str) -> str:
        return (
            f"ALTER TABLE {self.quote(table)} ADD CONSTRAINT {self.quote(name)} "
            f"CHECK ({expression})"
        )

    def add_foreign_key_sql(self, table: str, fk: ForeignKeyDef) -> str:
        return f"ALTER TABLE {self.quote(table)} ADD {self._foreign_key(fk)}"

    def _foreign_key(self, fk: ForeignKeyDef) -> str:
        q = self.quote
        sql = (
            f"CONSTRAINT {q(fk.name)} FOREIGN KEY ({self._names(fk.columns)}) "
            f"REFERENCES {q(fk.parent)} ({self._names(fk.parent_columns)})"
        )
        if fk.on_delete:
            sql += f" ON DELETE {fk.on_delete}"
        if fk.on_update:
            sql += f" ON UPDATE {fk.on_update}"
        return sql

    def _names(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    @abstractmethod
    def expression_type(self, conn: Any, table: str, expression: str) -> str:
        """The type this engine gives an expression's values, as it spells types."""

    def already_exists(self, exc: BaseException) -> bool:
        """True when a DDL statement failed only because its object exists already."""
        return False

    # engines with user-defined types, sequences and partitions (PostgreSQL)

    def create_type_sql(self, name: str, user_type: UserType) -> str:
        """CREATE TYPE / DOMAIN."""
        raise NotImplementedError

    def create_sequence_sql(self, sequence: SequenceDef) -> str:
        raise NotImplementedError

    def own_sequence_sql(self, sequence: str, table: str, column: str) -> str:
        raise NotImplementedError

    def identity_options_sql(self, sequence: SequenceDef) -> str | None:
        """An identity column's numbering, as its source has it (same engine)."""
        return None

    def create_partition_sql(
        self, name: str, parent: str, bound: str, partition_by: str | None
    ) -> str:
        raise NotImplementedError

    def next_number_sql(
        self, table: str, column: str, sequence: str | None, at_least: int
    ) -> str | None:
        """A statement that sets the column's next generated number past the copied rows
        (and to ``at_least``); None where the engine does it on its own."""
        return None

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
        copy_format: str = "binary",
    ) -> tuple[int, float]:
        """COPY of a source query into a table, inside the open transaction (both engines
        with ``binary_copy``; ``copy_format`` "text" for types whose binary form names
        database-local ids). Returns (rows written, seconds spent waiting for the source).
        Raises Stopped, leaving nothing written, when ``stop`` says so."""
        rows = source.copy_out(source_conn, select_sql)
        return self.copy_in(conn, table, columns, _checked(rows, stop)), 0.0

    def can_attach(self, source: Connector) -> bool:
        """Whether ``attach`` can make ``source``'s tables readable on this engine's
        connections (SQLite's ATTACH of another SQLite file)."""
        return False

    def attach(self, conn: Any, source: Connector, name: str) -> None:
        """Make ``source``'s tables readable on ``conn`` as ``name.table``, outside a
        transaction (engines where ``can_attach``)."""
        raise NotImplementedError

    def stored_columns(self, conn: Any, table: str, schema: str) -> tuple[str, ...] | None:
        """The columns of ``schema.table`` in their order, or None when one of them is not
        stored as written (a generated column); engines where ``can_attach``."""
        raise NotImplementedError

    def insert_attached(
        self, conn: Any, sql: str, params: Sequence[Any], stop: Callable[[], bool]
    ) -> int:
        """Run an INSERT ... SELECT from an attached source inside the open transaction;
        returns the rows inserted. Raises Stopped, the statement undone, when ``stop`` says
        so while it runs (engines where ``can_attach``)."""
        raise NotImplementedError

    def copy_out(self, conn: Any, select_sql: str) -> Iterator[bytes]:
        """Binary COPY of a query's rows (engines with ``binary_copy``)."""
        raise NotImplementedError

    def copy_in(
        self, conn: Any, table: str, columns: Sequence[str], chunks: Iterable[bytes]
    ) -> int:
        """Binary COPY into a table inside the open transaction (``binary_copy``); returns
        the rows written."""
        raise NotImplementedError

    # -- rows as CSV that the servers spell and read (``connectors.textcopy``) -------------

    def csv_select(self, fields: Sequence[str]) -> str:
        """The select list reading a batch's rows as CSV text, from each field's SQL."""
        raise NotImplementedError

    def read_csv(self, conn: Any, sql: str, params: Sequence[Any]) -> tuple[bytes | None, int]:
        """A batch's rows as CSV lines, and how many rows; None for the text when the
        batch is too large to read in one piece (the caller reads fewer rows)."""
        raise NotImplementedError

    def loads_csv(self, conn: Any) -> bool:
        """Whether this server, as a target, takes ``write_csv``'s bulk load."""
        return True

    def write_csv(
        self,
        conn: Any,
        table: str,
        columns: Sequence[str],
        loads: Sequence[str | None],
        text: bytes,
        rows: int,
    ) -> None:
        """Load a batch of CSV lines into a table inside the open transaction, all or none;
        raises when any value did not go in as it is."""
        raise NotImplementedError


class Unreachable(Unavailable):
    """A database moonshift could not connect to: which side, and why (no secret in it)."""

    def __init__(self, side: str, reason: str) -> None:
        super().__init__(f"{side}: cannot connect: {reason}")
        self.side, self.reason = side, reason


def connect(connector: Connector, side: str) -> Any:
    """A new connection, or Unreachable naming ``side``."""
    try:
        return connector.connect()
    except Exception as exc:
        password = getattr(getattr(connector, "url", None), "password", None)
        raise Unreachable(side, without_secret(first_line(exc), password)) from exc


def classified(exc: BaseException, transient: bool) -> TransientError | TerminalError:
    """``exc`` as a moonshift error of its kind, with its first line as the message."""
    if isinstance(exc, TransientError | TerminalError):
        return exc
    kind = TransientError if transient else TerminalError
    error = kind(first_line(exc))
    error.__cause__ = exc
    return error


class Stopped(Exception):
    """A COPY was ended because it was told to stop; nothing of it was written."""


def _checked(rows: Iterator[bytes], stop: Callable[[], bool]) -> Iterator[bytes]:
    for count, row in enumerate(rows, 1):
        if not count % 4096 and stop():
            raise Stopped()
        yield row
