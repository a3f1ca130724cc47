"""SQLite through the standard library: executemany in one transaction."""

from __future__ import annotations

import sqlite3
from typing import Any

from moonshift.connectors.base import Column, classified
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.errors import TerminalError, TransientError

BUSY_TIMEOUT_SECONDS = 30


class SqliteConnector(SqlConnector):
    engine = "sqlite"
    capabilities = CAPABILITIES["sqlite"]
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

    def columns(self, conn: Any, table: str, found: tuple[Column, ...]) -> tuple[Column, ...]:
        rows = conn.execute(f"PRAGMA table_info({self.quote(table)})").fetchall()
        defaults = {c.name: c.default for c in found}
        # A primary key column may hold NULL in SQLite, but moonshift keys never do.
        return tuple(
            Column(name, kind or "BLOB", not notnull and not pk, defaults.get(name))
            for _cid, name, kind, notnull, _default, pk in rows
        )

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

    def truncate(self, conn: Any, table: str) -> None:
        conn.execute(f"DELETE FROM {self.quote(table)}")
