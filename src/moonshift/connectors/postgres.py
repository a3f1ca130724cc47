"""PostgreSQL through psycopg 3: binary COPY in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from moonshift.connectors import pgwire
from moonshift.connectors.base import Column, Connector, classified
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.errors import TerminalError, TransientError

_TRANSIENT_STATES = ("40001", "40P01", "08000", "08003", "08006", "57P01", "57P02", "57P03")
COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


class PostgresConnector(SqlConnector):
    engine = "postgresql"
    capabilities = CAPABILITIES["postgresql"]

    def connect(self) -> psycopg.Connection[Any]:
        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, connect_timeout=10)

    def columns(self, conn: Any, table: str, found: tuple[Column, ...]) -> tuple[Column, ...]:
        rows = conn.execute(COLUMNS_SQL, (table,)).fetchall()
        conn.rollback()
        defaults = {c.name: c.default for c in found}
        return tuple(
            Column(name, kind, bool(null), defaults.get(name)) for name, kind, null in rows
        )

    def begin_snapshot(self, conn: Any) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

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
    ) -> tuple[int, float]:
        if not isinstance(source, PostgresConnector):
            return super().copy_from(
                source, source_conn, select_sql, conn, table, columns, stop=stop
            )
        sql = self._copy_in_sql(table, columns)
        return pgwire.pipe(source_conn, select_sql, conn, sql, stop=stop)

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Any]
    ) -> None:
        # COPY, not INSERTs: several times faster, and just as all-or-nothing.
        names = ", ".join(self.quote(c) for c in columns)
        with cursor.copy(f"COPY {self.quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _copy_in_sql(self, table: str, columns: Sequence[str]) -> str:
        names = ", ".join(self.quote(c) for c in columns)
        return f"COPY {self.quote(table)} ({names}) FROM STDIN (FORMAT binary)"
