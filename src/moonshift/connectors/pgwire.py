"""COPY through libpq directly (``psycopg.pq``), for the PostgreSQL to PostgreSQL hot loop.

psycopg's ``Copy`` object runs a Python generator and a wait for every row it reads, and
sends every binary row it is given on its own; a table copy moves millions of rows. Here a
row costs one ``get_copy_data`` and one ``put_copy_data`` call, libpq buffers the output,
and the socket is waited on only when libpq says it would block. The statements run on the
psycopg connection's own libpq connection, inside the transaction psycopg has open.
"""

from __future__ import annotations

import contextlib
import select
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from psycopg import errors, pq

from moonshift.connectors.base import Stopped

COPY_OUT = pq.ExecStatus.COPY_OUT
COPY_IN = pq.ExecStatus.COPY_IN
STOP_CHECK_ROWS = 4096
FAILED = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.BAD_RESPONSE, pq.ExecStatus.NONFATAL_ERROR)


def _wait(pgconn: Any, *, write: bool = False) -> None:
    fd = pgconn.socket
    select.select([], [fd], []) if write else select.select([fd], [], [])


def _next_result(pgconn: Any) -> Any:
    while pgconn.is_busy():
        _wait(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _finish(pgconn: Any, encoding: str) -> int:
    """Collect the statement's last results; raise its error, else return its row count."""
    failure, rows = None, 0
    while (result := _next_result(pgconn)) is not None:
        if result.status in FAILED and failure is None:
            failure = errors.error_from_result(result, encoding=encoding)
        rows = result.command_tuples or rows
    if failure is not None:
        raise failure
    return rows


def _start(conn: Any, sql: str, expected: pq.ExecStatus) -> Any:
    pgconn = conn.pgconn
    pgconn.send_query(sql.encode())
    while pgconn.flush():
        _wait(pgconn, write=True)
    result = _next_result(pgconn)
    if result is None or result.status != expected:
        failure = errors.error_from_result(result, encoding=conn.info.encoding) if result else None
        _finish(pgconn, conn.info.encoding)
        raise failure or errors.ProgrammingError(f"{sql.split()[0]} did not start a COPY")
    return pgconn


def copy_out(conn: Any, sql: str) -> Iterator[bytes]:
    """The rows of ``COPY ... TO STDOUT``, one buffer a row. Left early, the statement is
    cancelled and drained, so the connection can be rolled back and used again."""
    pgconn = _start(conn, sql, COPY_OUT)
    done = False
    try:
        while True:
            size, data = pgconn.get_copy_data(1)
            if size > 0:
                yield data
            elif size == 0:
                _wait(pgconn)
                pgconn.consume_input()
            else:
                done = True
                _finish(pgconn, conn.info.encoding)
                return
    finally:
        if not done:
            _abandon(conn, pgconn)


def _abandon(conn: Any, pgconn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.cancel_safe(timeout=10)
    with contextlib.suppress(Exception):
        while pgconn.get_copy_data(0)[0] > 0:
            pass
        _finish(pgconn, conn.info.encoding)


def copy_in(conn: Any, sql: str, rows: Iterable[bytes]) -> int:
    """Feed ``COPY ... FROM STDIN``; returns the rows the server took. When ``rows`` fails,
    the COPY is ended with an error (nothing of it stays) and the failure is raised."""
    pgconn = _start(conn, sql, COPY_IN)
    try:
        for row in rows:
            while not pgconn.put_copy_data(row):
                _wait(pgconn, write=True)
                pgconn.flush()
    except BaseException:
        _end(pgconn, b"moonshift: the source failed")
        with contextlib.suppress(errors.Error):
            _finish(pgconn, conn.info.encoding)
        raise
    _end(pgconn, None)
    return _finish(pgconn, conn.info.encoding)


def _end(pgconn: Any, error: bytes | None) -> None:
    while not pgconn.put_copy_end(error):
        _wait(pgconn, write=True)
    while pgconn.flush():
        _wait(pgconn, write=True)


def pipe(
    source: Any,
    select_sql: str,
    target: Any,
    copy_sql: str,
    *,
    stop: Callable[[], bool],
    copy_format: str = "binary",
) -> tuple[int, float]:
    """``COPY (select) TO STDOUT`` on ``source`` straight into ``COPY ... FROM STDIN`` on
    ``target``, a row at a time through libpq's buffers: one loop, no Python in between.

    Returns (rows, seconds spent waiting for the source). ``stop`` is asked every
    STOP_CHECK_ROWS rows; when it says so, or either side fails, the target's COPY ends
    with an error (nothing of it stays) and the source's statement is cancelled."""
    src = _start(source, f"COPY ({select_sql}) TO STDOUT (FORMAT {copy_format})", COPY_OUT)
    try:
        dst = _start(target, copy_sql, COPY_IN)
    except BaseException:
        _abandon(source, src)
        raise
    get, put = src.get_copy_data, dst.put_copy_data
    waited, count, drained = 0.0, 0, False
    try:
        while True:
            size, data = get(1)
            if size > 0:
                if not put(data):
                    while not put(data):
                        _wait(dst, write=True)
                        dst.flush()
                count += 1
                if not count % STOP_CHECK_ROWS and stop():
                    raise Stopped()
            elif size == 0:
                started = time.perf_counter()
                _wait(src)
                waited += time.perf_counter() - started
                src.consume_input()
            else:
                drained = True
                _finish(src, source.info.encoding)
                break
    except BaseException as exc:
        _end(dst, b"moonshift: stopped" if isinstance(exc, Stopped) else b"moonshift: failed")
        with contextlib.suppress(errors.Error):
            _finish(dst, target.info.encoding)
        if not drained:
            _abandon(source, src)
        raise
    _end(dst, None)
    return _finish(dst, target.info.encoding), waited
