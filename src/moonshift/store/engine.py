"""SQLAlchemy engines for the state store: SQLite in WAL mode, or PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.exc import InvalidatePoolError

from moonshift.dburl import PG_KEEPALIVES, normalize
from moonshift.files import private_file

WRITE = "moonshift_write"
PING_AFTER_IDLE_SECONDS = 5.0
_USED_AT = "moonshift_used_at"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for the state store at ``url``; creates the folder of an SQLite file."""
    parsed = normalize(url, "state")
    if parsed.get_backend_name() != "sqlite":
        # Last in, first out: a daemon's loop keeps reusing the connection it just used,
        # which needs no check; the others grow idle, and are checked when taken again.
        engine = create_engine(
            parsed, pool_use_lifo=True, pool_size=5, max_overflow=5, connect_args=PG_KEEPALIVES
        )
        event.listen(engine, "connect", _used)
        event.listen(engine, "checkin", _used)
        event.listen(engine, "checkout", _pinger(engine.dialect))
        return engine
    if parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))  # SQLite gives its -wal and -shm files its mode
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _used(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_USED_AT] = time.monotonic()


def _pinger(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    """What ``pool_pre_ping`` does, only for a connection left unused a while: one used
    a moment ago is alive, and pinging it would double the round trips of every short
    transaction. A dead one is replaced, and the pool's older connections with it."""

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used = record.info.get(_USED_AT)
        if used is not None and time.monotonic() - used < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise InvalidatePoolError() from err
            raise

    return ping_if_idle


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's begin event emit BEGIN itself, so writers can take the lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE makes a read-then-write transaction fail fast or wait, never deadlock.
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
