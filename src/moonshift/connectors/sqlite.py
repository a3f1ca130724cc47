"""SQLite through the standard library: executemany in one transaction."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from moonshift.connectors import sqlitecatalog
from moonshift.connectors.base import Column, Connector, Schema, Stopped, classified
from moonshift.connectors.ddl import ColumnDef, TableDef
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.connectors.sqlitewal import WalCopier
from moonshift.errors import TerminalError, TransientError

log = logging.getLogger("moonshift.copy")
BUSY_TIMEOUT_SECONDS = 30
# How often a running statement asks whether to stop, in SQLite's virtual machine
# instructions: a thousand times a second and more, each a Python call, too few to measure.
STOP_CHECK_INSTRUCTIONS = 10_000


class SqliteConnector(SqlConnector):
    engine = "sqlite"
    capabilities = CAPABILITIES["sqlite"]
    triggers_sql = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1, 2"
    placeholder = "?"

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.url.database or ":memory:",
            isolation_level=None,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def catalog(self, conn: Any) -> Schema:
        return sqlitecatalog.read_schema(conn)

    def estimated_rows(self, conn: Any, table: str) -> int | None:
        """A rowid table's span of rowids: its rows when none was deleted, more otherwise;
        two lookups in its b-tree, where COUNT(*) reads all of it."""
        t = self.quote(table)
        try:
            (span,) = conn.execute(
                f"SELECT (SELECT max(_rowid_) FROM {t}) - (SELECT min(_rowid_) FROM {t}) + 1"
            ).fetchone()
        except sqlite3.OperationalError:  # a table WITHOUT ROWID
            return None
        return None if span is None else int(span)

    def stored_type(self, conn: Any, table: str, column: Column) -> str | None:
        if column.type.strip():
            return None
        q = self.quote
        found = {
            str(kind)
            for (kind,) in conn.execute(f"SELECT DISTINCT typeof({q(column.name)}) FROM {q(table)}")
        } - {"null"}
        if found <= {"integer"} and found:
            return "INTEGER"
        if found <= {"integer", "real"} and found:
            return "REAL"
        if found and "blob" not in found:
            return "TEXT"
        return "BLOB"

    def can_attach(self, source: Connector) -> bool:
        return isinstance(source, SqliteConnector) and source.url.database not in (
            None,
            "",
            ":memory:",
        )

    def attach(self, conn: Any, source: Connector, name: str) -> None:
        assert isinstance(source, SqliteConnector)
        conn.execute(f"ATTACH DATABASE ? AS {self.quote(name)}", (source.url.database,))

    def stored_columns(self, conn: Any, table: str, schema: str) -> tuple[str, ...] | None:
        found = conn.execute(
            "SELECT name, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid", (table, schema)
        ).fetchall()
        if any(hidden for _name, hidden in found):
            return None
        return tuple(str(name) for name, _hidden in found)

    def insert_attached(
        self, conn: Any, sql: str, params: Sequence[Any], stop: Callable[[], bool]
    ) -> int:
        asked = False

        def check() -> int:
            nonlocal asked
            asked = stop()
            return int(asked)

        conn.set_progress_handler(check, STOP_CHECK_INSTRUCTIONS)
        try:
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return int(cursor.rowcount)
        except sqlite3.OperationalError:
            if asked:
                raise Stopped() from None
            raise
        finally:
            conn.set_progress_handler(None, 0)

    @contextmanager
    def writing(self, conn: Any) -> Iterator[Callable[[], None]]:
        try:
            copier = WalCopier(self.connect())
        except sqlite3.Error:  # then each commit copies the WAL, as it would anyway
            log.debug("no side connection for checkpoints", exc_info=True)
            yield lambda: None
            return
        conn.execute("PRAGMA wal_autocheckpoint=0")
        copier.start()
        try:
            yield copier.pace
        finally:
            copier.stop()
            copier.side.close()
            try:
                conn.execute("PRAGMA wal_autocheckpoint=1000")
            except sqlite3.Error:
                log.debug("the writer's connection is gone", exc_info=True)

    def begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def begin_snapshot(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def translate(self, exc: BaseException) -> TransientError | TerminalError:
        text = str(exc).lower()
        return classified(
            exc,
            isinstance(exc, sqlite3.OperationalError)
            and ("locked" in text or "busy" in text or "disk i/o" in text),
        )

    # -- DDL --------------------------------------------------------------------------------

    def create_table_sql(self, table: TableDef) -> str:
        # A rowid alias (one INTEGER key column) is never NULL: a NULL written there takes the
        # next rowid. NOT NULL on it would add nothing, and would keep SQLite from copying a
        # source's records as they are, which INSERT ... SELECT * does only where the target
        # is NOT NULL no more than the source, whose INTEGER PRIMARY KEY says nothing of NULL.
        if len(table.key) == 1:
            columns = tuple(
                replace(c, nullable=True)
                if c.name == table.key[0] and c.type.strip().upper() == "INTEGER"
                else c
                for c in table.columns
            )
            table = replace(table, columns=columns)
        return super().create_table_sql(table)

    def column_sql(self, column: ColumnDef) -> str:
        parts = [self.quote(column.name), column.type]
        if not column.nullable:
            parts.append("NOT NULL")
        if column.default is not None:
            parts.append(f"DEFAULT {column.default}")
        if column.generated is not None:
            parts.append(f"GENERATED ALWAYS AS ({column.generated})")
            parts.append("STORED" if column.stored else "VIRTUAL")
        return " ".join(parts)

    def add_unique_sql(self, table: str, name: str, columns: Sequence[str]) -> str:
        names = ", ".join(self.quote(c) for c in columns)
        return f"CREATE UNIQUE INDEX {self.quote(name)} ON {self.quote(table)} ({names})"

    def expression_type(self, conn: Any, table: str, expression: str) -> str:
        conn.execute("DROP TABLE IF EXISTS temp.ms_expression_type")
        conn.execute(
            f"CREATE TEMP TABLE ms_expression_type AS SELECT {expression} AS v FROM {table} LIMIT 0"
        )
        spelled = conn.execute("PRAGMA temp.table_info(ms_expression_type)").fetchone()[2]
        conn.execute("DROP TABLE temp.ms_expression_type")
        return str(spelled)

    def already_exists(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "already exists" in str(exc)

    def truncate(self, conn: Any, table: str) -> None:
        conn.execute(f"DELETE FROM {self.quote(table)}")
