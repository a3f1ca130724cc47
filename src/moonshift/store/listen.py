"""Wake-ups between processes: PostgreSQL LISTEN/NOTIFY, or SQLite's count of changes.

Only changes an operator makes are announced (apply, start, trigger, enable, pause, cancel);
a daemon's own writes are not, or its heartbeat would wake it in a loop. On PostgreSQL the
rest (a run a worker queues for a retry, a backfill) is found by a look every ``poll``.
An SQLite file tells any connection whether another one has committed since it last asked
(``PRAGMA data_version``, a few microseconds): there every change ends the wait, and a
daemon with nothing due sleeps until it is.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from moonshift.dburl import PG_KEEPALIVES

if TYPE_CHECKING:
    import psycopg

CHANNEL = "moonshift"


def announce(engine: Engine) -> None:
    """Tell listening daemons the store changed (no-op on SQLite)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")
        conn.commit()


class Waiter:
    """``wait`` returns early when ``stop`` is set, when the store announces a change
    (PostgreSQL), or when it changed since ``mark`` (an SQLite file, which
    ``sees_every_change``)."""

    def __init__(self, engine: Engine, stop: threading.Event) -> None:
        self.stop = stop
        self._conn: psycopg.Connection | None = None
        self._file: sqlite3.Connection | None = None
        self._version: int | None = None
        database = engine.url.database
        if engine.dialect.name == "postgresql":
            import psycopg  # only a PostgreSQL store listens; SQLite ones never load it

            url = engine.url.set(drivername="postgresql")
            self._conn = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True, **PG_KEEPALIVES
            )
            self._conn.execute(f"LISTEN {CHANNEL}")
        elif engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._file = sqlite3.connect(database, check_same_thread=False)

    @property
    def sees_every_change(self) -> bool:
        return self._file is not None

    def mark(self) -> None:
        """Take the store as it is now: a change after this ends the next ``wait``."""
        self._version = self._data_version()

    def wait(self, seconds: float, *, poll: float) -> bool:
        """Sleep ``seconds``; True when a change ended the sleep (an SQLite file is looked
        at every ``poll``)."""
        if self._file is not None:
            remaining = seconds
            while remaining > 0:
                step = max(0.01, min(poll, remaining))
                if self.stop.wait(step):
                    return False
                if self._data_version() != self._version:
                    return True
                remaining -= step
            return False
        if self._conn is None:
            self.stop.wait(seconds)
            return False
        # Wake at least every 0.5 s to notice ``stop``; a notification ends the wait at once.
        remaining = seconds
        while remaining > 0 and not self.stop.is_set():
            step = min(0.5, remaining)
            if any(True for _ in self._conn.notifies(timeout=step, stop_after=1)):
                return True
            remaining -= step
        return False

    def _data_version(self) -> int | None:
        if self._file is None:
            return None
        return int(self._file.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._file is not None:
            self._file.close()
