"""PostgreSQL through psycopg 3: binary COPY in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from moonshift.connectors import pgcatalog, pgwire
from moonshift.connectors.base import Column, Connector, Schema, SequenceDef, UserType, classified
from moonshift.connectors.ddl import ColumnDef
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.connectors.types import SqlType, parse_postgres
from moonshift.dburl import PG_KEEPALIVES
from moonshift.errors import TerminalError, TransientError

_TRANSIENT_STATES = ("40001", "40P01", "08000", "08003", "08006", "57P01", "57P02", "57P03")
TOO_MANY = 1 << 62  # rows read as CSV when a batch was too large to count
# Text forms (ranges, intervals, to_jsonb) read the same whatever the server's defaults.
SESSION = "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=1"
# maintenance_work_mem for the keys and indexes built after the rows
BUILD_MEMORY = "512MB"


class PostgresConnector(SqlConnector):
    engine = "postgresql"
    capabilities = CAPABILITIES["postgresql"]
    # -1 until the table is first vacuumed or analysed; a partitioned table keeps none
    estimated_rows_sql = (
        "SELECT reltuples::bigint FROM pg_class "
        "WHERE oid = to_regclass(quote_ident(%s)) AND relkind = 'r'"
    )
    triggers_sql = (
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
        "ORDER BY 1, 2"
    )
    long_transactions_sql = (
        "SELECT coalesce(usename, '?') || ' (pid ' || pid || ', ' || coalesce(state, '?') || ')', "
        "extract(epoch FROM now() - xact_start) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND xact_start < now() - interval '%(seconds)s seconds' ORDER BY 2 DESC"
    )

    def connect(self) -> psycopg.Connection[Any]:
        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, connect_timeout=10, options=SESSION, **PG_KEEPALIVES)

    def catalog(self, conn: Any) -> Schema:
        return pgcatalog.read_schema(conn)

    def parse_type(self, column: Column) -> SqlType:
        return parse_postgres(column.type, column.user_type)

    def begin_snapshot(self, conn: Any) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit_batch(self, conn: Any, *, durable: bool) -> None:
        # WAL is flushed in order: a durable commit flushes every commit before it, and a
        # crash loses only a tail of commits, each batch with its own checkpoint
        if not durable:
            conn.execute("SET LOCAL synchronous_commit = off")
        conn.commit()

    def begin_build(self, conn: Any) -> None:
        # raised, never lowered: a sort in memory, and room for parallel build workers
        conn.execute(
            "SELECT set_config('maintenance_work_mem', %s, true) "
            "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
            (BUILD_MEMORY, BUILD_MEMORY),
        )

    # -- DDL --------------------------------------------------------------------------------

    identity_kind = "by default"

    text_read = "{}::text"

    def column_sql(self, column: ColumnDef) -> str:
        # PostgreSQL stores every generated column
        return super().column_sql(replace(column, stored=True))

    def compare_sql(self, expression: str) -> str | None:
        return f"({expression})::text"

    def from_sql(self, table: str, only: bool = False) -> str:
        return ("ONLY " if only else "") + self.quote(table)

    def sampled_from(self, from_sql: str, fraction: float) -> str:
        if fraction >= 1:
            return from_sql
        return f"{from_sql} TABLESAMPLE SYSTEM ({fraction * 100:.6f})"

    def insert_sql(self, table: str, columns: Sequence[str]) -> str:
        # identity columns GENERATED ALWAYS take the copied values too
        names = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join([self.placeholder] * len(columns))
        return f"INSERT INTO {self.quote(table)} ({names}) OVERRIDING SYSTEM VALUE VALUES ({marks})"

    def expression_type(self, conn: Any, table: str, expression: str) -> str:
        cursor = conn.execute(f"SELECT {expression} FROM {table} LIMIT 0")
        oid, mod = cursor.pgresult.ftype(0), cursor.pgresult.fmod(0)
        (spelled,) = conn.execute("SELECT format_type(%s, %s)", (oid, mod)).fetchone()
        conn.rollback()
        return str(spelled)

    def already_exists(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) in ("42P07", "42710")

    def create_type_sql(self, name: str, user_type: UserType) -> str:
        q = self.quote
        if user_type.kind == "enum":
            labels = ", ".join(_literal(label) for label in user_type.labels)
            return f"CREATE TYPE {q(name)} AS ENUM ({labels})"
        if user_type.kind == "composite":
            fields = ", ".join(f"{q(a)} {t}" for a, t in user_type.attributes)
            return f"CREATE TYPE {q(name)} AS ({fields})"
        assert user_type.kind == "domain" and user_type.base
        sql = f"CREATE DOMAIN {q(name)} AS {user_type.base}"
        if user_type.default is not None:
            sql += f" DEFAULT {user_type.default}"
        if user_type.not_null:
            sql += " NOT NULL"
        for check in user_type.checks:
            named = f" CONSTRAINT {q(check.name)}" if check.name else ""
            sql += f"{named} CHECK {check.expression}"
        return sql

    def create_sequence_sql(self, sequence: SequenceDef) -> str:
        name, kind = self.quote(sequence.name), sequence.data_type
        return f"CREATE SEQUENCE IF NOT EXISTS {name} AS {kind} {_numbering(sequence)}"

    def identity_options_sql(self, sequence: SequenceDef) -> str | None:
        return f"(SEQUENCE NAME {self.quote(sequence.name)} {_numbering(sequence)})"

    def create_partition_sql(
        self, name: str, parent: str, bound: str, partition_by: str | None
    ) -> str:
        sql = f"CREATE TABLE {self.quote(name)} PARTITION OF {self.quote(parent)} {bound}"
        return sql + (f" PARTITION BY {partition_by}" if partition_by else "")

    def own_sequence_sql(self, sequence: str, table: str, column: str) -> str:
        q = self.quote
        return f"ALTER SEQUENCE {q(sequence)} OWNED BY {q(table)}.{q(column)}"

    def next_number_sql(
        self, table: str, column: str, sequence: str | None, at_least: int
    ) -> str | None:
        q = self.quote
        named = (
            _literal(q(sequence))
            if sequence
            else f"pg_get_serial_sequence({_literal(q(table))}, {_literal(column)})"
        )
        return (
            f"SELECT setval({named}, GREATEST(COALESCE((SELECT MAX({q(column)}) "
            f"FROM {q(table)}), 0) + 1, {int(at_least)}), false)"
        )

    def translate(self, exc: BaseException) -> TransientError | TerminalError:
        lost = isinstance(exc, psycopg.OperationalError | pg_errors.SerializationFailure)
        return classified(exc, lost or getattr(exc, "sqlstate", None) in _TRANSIENT_STATES)

    def copy_out(self, conn: Any, select_sql: str) -> Iterator[bytes]:
        return pgwire.copy_out(conn, f"COPY ({select_sql}) TO STDOUT (FORMAT binary)")

    def copy_in(
        self, conn: Any, table: str, columns: Sequence[str], chunks: Iterable[bytes]
    ) -> int:
        return pgwire.copy_in(conn, self._copy_in_sql(table, columns), chunks)

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
        if not isinstance(source, PostgresConnector):
            return super().copy_from(
                source, source_conn, select_sql, conn, table, columns, stop=stop
            )
        sql = self._copy_in_sql(table, columns, copy_format)
        return pgwire.pipe(source_conn, select_sql, conn, sql, stop=stop, copy_format=copy_format)

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Any]
    ) -> None:
        # COPY, not INSERTs: several times faster, and just as all-or-nothing.
        names = ", ".join(self.quote(c) for c in columns)
        with cursor.copy(f"COPY {self.quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def csv_select(self, fields: Sequence[str]) -> str:
        line = " || ',' || ".join(fields)
        return f"string_agg({line}, E'\\n'), count(*)"

    def read_csv(self, conn: Any, sql: str, params: Sequence[Any]) -> tuple[bytes | None, int]:
        # one value a batch, as long as a value may be (1 GB): longer fails, and the
        # caller reads fewer rows (their count is not known then: "more than asked")
        try:
            text, count = conn.execute(sql, params).fetchone()
        except (pg_errors.ProgramLimitExceeded, pg_errors.OutOfMemory):
            conn.rollback()
            return None, TOO_MANY
        return (text or "").encode(), int(count)

    def write_csv(
        self,
        conn: Any,
        table: str,
        columns: Sequence[str],
        loads: Sequence[str | None],
        text: bytes,
        rows: int,
    ) -> None:
        names = ", ".join(self.quote(c) for c in columns)
        sql = f"COPY {self.quote(table)} ({names}) FROM STDIN (FORMAT csv)"
        cursor = conn.cursor()
        with cursor.copy(sql) as copy:
            copy.write(text)
        if cursor.rowcount != rows:  # a line the source spelled as NULL is missing
            raise psycopg.DataError(f"COPY took {cursor.rowcount} of {rows} rows")

    def _copy_in_sql(self, table: str, columns: Sequence[str], copy_format: str = "binary") -> str:
        names = ", ".join(self.quote(c) for c in columns)
        return f"COPY {self.quote(table)} ({names}) FROM STDIN (FORMAT {copy_format})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _numbering(s: SequenceDef) -> str:
    return (
        f"START WITH {s.start} INCREMENT BY {s.increment} MINVALUE {s.minimum} "
        f"MAXVALUE {s.maximum} CACHE {s.cache}{' CYCLE' if s.cycle else ''}"
    )
