"""Telling a state store that cannot be reached (restarting, failing over, the network)
from one that refuses what was asked: a daemon waits out the first and stops on the second."""

from __future__ import annotations

import sqlite3
import sys

from sqlalchemy.exc import DBAPIError, DisconnectionError

# SQLite's OperationalError also reports mistakes ("no such table"): only these are waits.
_SQLITE_WAITS = ("locked", "unable to open", "disk i/o")
_PG_WAITS = frozenset({"57P01", "57P02", "57P03", "53300"})
_PG_WAIT_TEXTS = (
    "the database system is",  # starting up, shutting down, in recovery mode
    "terminating connection due to administrator command",
    "too many clients",
    "remaining connection slots",
)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store could not be reached, rather than refused a
    statement: worth trying again in a while."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc).lower() for text in _SQLITE_WAITS)
    psycopg = sys.modules.get("psycopg")  # loaded only where the store is PostgreSQL
    if psycopg is None or not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    # Class 08: the connection broke; 57P01-57P03: the server is shutting down or starting
    # up; 53300: it has no connection to spare. Not a wrong password, a missing database or
    # a full disk: those stop the daemon. A connection that failed has no SQLSTATE (libpq
    # keeps it): there the server's own word, FATAL, tells a refusal from no answer.
    state = getattr(exc, "sqlstate", None)
    if state is not None:
        return state.startswith("08") or state in _PG_WAITS
    said = str(exc)
    return "FATAL:" not in said or any(text in said for text in _PG_WAIT_TEXTS)
