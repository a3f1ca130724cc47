"""MariaDB and MySQL through PyMySQL: multi-row INSERTs, strict sessions in UTC."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pymysql

from moonshift.connectors.base import Column, classified
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.errors import TerminalError, TransientError

# 1205 lock wait timeout, 1213 deadlock, 2006 gone away, 2013 lost, 2003 cannot connect.
_TRANSIENT_CODES = {1205, 1213, 2002, 2003, 2006, 2013, 2055, 1927, 1053}
COLUMNS_SQL = """
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""
CHECKS_SQL = """
SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = %s
"""
SESSION = (
    "SET SESSION time_zone = '+00:00', "
    "sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'"
)


class MysqlConnector(SqlConnector):
    engine = "mysql"
    capabilities = CAPABILITIES["mysql"]
    quote_char = "`"
    table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

    def connect(self) -> pymysql.Connection[Any]:
        url = self.url
        conn = pymysql.connect(
            host=url.host or "localhost",
            port=url.port or 3306,
            user=url.username or "root",
            password=str(url.password or ""),
            database=url.database,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=10,
        )
        with conn.cursor() as cursor:
            cursor.execute(SESSION)
        return conn

    def columns(self, conn: Any, table: str, found: tuple[Column, ...]) -> tuple[Column, ...]:
        with conn.cursor() as cursor:
            cursor.execute(COLUMNS_SQL, (table,))
            rows = cursor.fetchall()
            cursor.execute(CHECKS_SQL, (table,))
            checks = " ".join(str(r[0]) for r in cursor.fetchall())
        conn.rollback()
        json_columns = set(re.findall(r"json_valid\(`([^`]+)`\)", checks))
        defaults = {c.name: c.default for c in found}
        return tuple(
            Column(name, "json" if name in json_columns else kind, bool(null), defaults.get(name))
            for name, kind, null in rows
        )

    def begin_snapshot(self, conn: Any) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def translate(self, exc: BaseException) -> TransientError | TerminalError:
        code = exc.args[0] if isinstance(exc, pymysql.err.MySQLError) and exc.args else None
        lost = isinstance(exc, pymysql.err.InterfaceError)
        return classified(exc, lost or code in _TRANSIENT_CODES)

    def upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        rest = [c for c in columns if c not in key] or list(key[:1])
        updates = ", ".join(f"{self.quote(c)} = VALUES({self.quote(c)})" for c in rest)
        return f"{self.insert_sql(table, columns)} ON DUPLICATE KEY UPDATE {updates}"

    def truncate(self, conn: Any, table: str) -> None:
        # DELETE, not TRUNCATE: TRUNCATE commits at once and fails on referenced tables.
        with conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.quote(table)}")
