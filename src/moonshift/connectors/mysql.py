"""MariaDB and MySQL through PyMySQL: multi-row INSERTs, strict sessions in UTC."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import pymysql

from moonshift.connectors import mycatalog
from moonshift.connectors.base import Schema, classified
from moonshift.connectors.ddl import ColumnDef, IndexDef
from moonshift.connectors.introspect import CAPABILITIES
from moonshift.connectors.sql import SqlConnector
from moonshift.dburl import keep_alive
from moonshift.errors import TerminalError, TransientError

# 1205 lock wait timeout, 1213 deadlock, 2006 gone away, 2013 lost, 2003 cannot connect.
_TRANSIENT_CODES = {1205, 1213, 2002, 2003, 2006, 2013, 2055, 1927, 1053}
# a batch's CSV file lives here while it loads: memory, where the system has it so
_SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None
SESSION = (
    "SET SESSION time_zone = '+00:00', "
    "sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'"
)


class _Connection(pymysql.connections.Connection):  # type: ignore[misc]
    """PyMySQL's connection, sharing one TLS context among connections that set no TLS
    option (PyMySQL then uses TLS where the server offers it, and builds a context that
    verifies nothing, loading the system's certificates again for each connection: about
    50 ms, and a copy opens several). The shared context is built when a server first
    offers TLS, not before (17 ms of a run's start where none does)."""

    _preferred: Any = None

    def _create_ssl_ctx(self, sslp: Any) -> Any:
        if sslp:
            return super()._create_ssl_ctx(sslp)
        return _PreferredContext(lambda: super(_Connection, self)._create_ssl_ctx(sslp))


class _PreferredContext:
    """The shared context of connections that set no TLS option, made on first use."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make

    def wrap_socket(self, sock: Any, **options: Any) -> Any:
        if _Connection._preferred is None:
            _Connection._preferred = self.make()
        return _Connection._preferred.wrap_socket(sock, **options)


class MysqlConnector(SqlConnector):
    engine = "mysql"
    capabilities = CAPABILITIES["mysql"]
    # InnoDB's is its sampled statistics', often some way off; MyISAM's is exact
    estimated_rows_sql = (
        "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND TABLE_TYPE = 'BASE TABLE'"
    )
    triggers_sql = (
        "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1, 2"
    )
    long_transactions_sql = (
        "SELECT CONCAT('thread ', trx_mysql_thread_id, ' (', trx_state, ')'), "
        "TIMESTAMPDIFF(SECOND, trx_started, NOW()) FROM information_schema.INNODB_TRX "
        "WHERE trx_mysql_thread_id <> CONNECTION_ID() "
        "AND trx_started < NOW() - INTERVAL %(seconds)s SECOND ORDER BY 2 DESC"
    )
    quote_char = "`"
    table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

    def connect(self) -> pymysql.Connection[Any]:
        url = self.url
        conn = _Connection(
            host=url.host or "localhost",
            port=url.port or 3306,
            user=url.username or "root",
            password=str(url.password or ""),
            database=url.database,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=10,
            local_infile=True,  # batches from PostgreSQL load as CSV (write_csv)
        )
        keep_alive(conn._sock)
        # The server may ask for any client file once LOCAL is on: PyMySQL answers only
        # while write_csv loads its own file (it checks this flag at the server's request).
        conn._local_infile = False
        with conn.cursor() as cursor:
            cursor.execute(SESSION)
            # a batch read as CSV is one GROUP_CONCAT value, as long as a packet allows
            cursor.execute("SET SESSION group_concat_max_len = @@max_allowed_packet")
        return conn

    def csv_select(self, fields: Sequence[str]) -> str:
        # a line of bytes (its text fields are spelled as UTF-8 bytes, textcopy._my_quoted),
        # and so the batch: the driver hands it on rather than decoding it
        line = ", ',', ".join(fields)
        return f"CAST(GROUP_CONCAT(CONCAT(_binary'', {line}) SEPARATOR '\\n') AS BINARY), COUNT(*)"

    def read_csv(self, conn: Any, sql: str, params: Sequence[Any]) -> tuple[bytes | None, int]:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            text, count = cursor.fetchone()
            # cut short (a warning) or over max_allowed_packet (NULL): too large
            if cursor.warning_count or (count and text is None):
                return None, int(count)
        return (text.encode() if isinstance(text, str) else text or b""), int(count)

    def loads_csv(self, conn: Any) -> bool:
        # LOAD DATA LOCAL needs the server's local_infile (MySQL 8 has it off by default)
        with conn.cursor() as cursor:
            cursor.execute("SELECT @@GLOBAL.local_infile")
            (allowed,) = cursor.fetchone()
        conn.rollback()
        return bool(int(allowed))

    def write_csv(
        self,
        conn: Any,
        table: str,
        columns: Sequence[str],
        loads: Sequence[str | None],
        text: bytes,
        rows: int,
    ) -> None:
        # LOCAL loads turn refused values into warnings (the server cannot stop the client
        # mid-file): any warning, or a row short, fails the batch, which the row path redoes.
        names = [
            self.quote(c) if load is None else f"@v{i}"
            for i, (c, load) in enumerate(zip(columns, loads, strict=True))
        ]
        sets = [
            f"{self.quote(c)} = {load.format(f'@v{i}')}"
            for i, (c, load) in enumerate(zip(columns, loads, strict=True))
            if load is not None
        ]
        with tempfile.NamedTemporaryFile(prefix="moonshift-", suffix=".csv", dir=_SCRATCH) as file:
            file.write(text)
            file.flush()
            sql = (
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {self.quote(table)} CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                f"LINES TERMINATED BY '\\n' ({', '.join(names)})"
                + (f" SET {', '.join(sets)}" if sets else "")
            )
            with conn.cursor() as cursor:
                conn._local_infile = True
                try:
                    loaded = cursor.execute(sql, (file.name,))
                finally:
                    conn._local_infile = False
                if cursor.warning_count or loaded != rows:
                    cursor.execute("SHOW WARNINGS LIMIT 1")
                    found = cursor.fetchone()
                    said = f": {found[2]}" if found else ""
                    raise pymysql.err.DataError(
                        1265, f"LOAD DATA took {loaded} of {rows} rows as they are{said}"
                    )

    def catalog(self, conn: Any) -> Schema:
        return mycatalog.read_schema(conn)

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

    # -- DDL --------------------------------------------------------------------------------

    identity_kind = "auto_increment"

    text_read = "CAST({} AS CHAR)"

    def column_sql(self, column: ColumnDef) -> str:
        parts = [self.quote(column.name), column.type]
        if column.generated is not None:  # MariaDB takes no NOT NULL on these
            return " ".join(
                [*parts, f"AS ({column.generated})", "STORED" if column.stored else "VIRTUAL"]
            )
        if not column.nullable:
            parts.append("NOT NULL")
        if column.default is not None:
            parts.append(f"DEFAULT {column.default}")
        if column.identity == "auto_increment":
            parts.append("AUTO_INCREMENT")
        return " ".join(parts)

    def create_index_sql(self, table: str, index: IndexDef) -> str:
        kind = {"fulltext": "FULLTEXT ", "spatial": "SPATIAL "}.get(index.method or "", "")
        unique = "UNIQUE " if index.unique else ""
        keys = ", ".join(index.keys)
        return (
            f"CREATE {unique}{kind}INDEX {self.quote(index.name)} ON {self.quote(table)} ({keys})"
        )

    def expression_type(self, conn: Any, table: str, expression: str) -> str:
        with conn.cursor() as cursor:
            cursor.execute("DROP TEMPORARY TABLE IF EXISTS ms_expression_type")
            cursor.execute(
                f"CREATE TEMPORARY TABLE ms_expression_type AS "
                f"SELECT {expression} AS v FROM {table} LIMIT 0"
            )
            cursor.execute("SHOW COLUMNS FROM ms_expression_type")
            spelled = str(cursor.fetchone()[1])
            cursor.execute("DROP TEMPORARY TABLE ms_expression_type")
        conn.rollback()
        return spelled

    def already_exists(self, exc: BaseException) -> bool:
        code = exc.args[0] if isinstance(exc, pymysql.err.MySQLError) and exc.args else None
        return code in (1050, 1061, 1068, 1826)

    def next_number_sql(
        self, table: str, column: str, sequence: str | None, at_least: int
    ) -> str | None:
        # InnoDB sets a lower value to the column's greatest plus one.
        return f"ALTER TABLE {self.quote(table)} AUTO_INCREMENT = {max(1, int(at_least))}"

    def truncate(self, conn: Any, table: str) -> None:
        # DELETE, not TRUNCATE: TRUNCATE commits at once and fails on referenced tables.
        with conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.quote(table)}")
