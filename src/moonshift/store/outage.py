"""Telling a state store that cannot be reached (restarting, failing over, the network)
from one that refuses what was asked: a daemon waits out the first and stops on the second."""

from __future__ import annotations

import sqlite3
import sys

from sqlalchemy.exc import DBAPIError, DisconnectionError

# SQLite's OperationalError also reports mistakes ("no such table"): only these are waits.
_SQLITE_WAITS = ("locked", "unable to open", "disk i/o")


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
    return psycopg is not None and isinstance(
        exc, psycopg.OperationalError | psycopg.InterfaceError
    )
