"""Wake-ups between processes: PostgreSQL LISTEN/NOTIFY, or a plain sleep on SQLite.

Only changes an operator makes are announced (apply, start, trigger, enable, pause, cancel);
a daemon's own writes are not, or its heartbeat would wake it in a loop.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine

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
    """``wait(seconds)`` returns early when the store announces a change or ``stop`` is set."""

    def __init__(self, engine: Engine, stop: threading.Event) -> None:
        self.stop = stop
        self._conn: psycopg.Connection | None = None
        if engine.dialect.name == "postgresql":
            import psycopg  # only a PostgreSQL store listens; SQLite ones never load it

            url = engine.url.set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, seconds: float) -> None:
        if self._conn is None:
            self.stop.wait(seconds)
            return
        # Wake at least every 0.5 s to notice ``stop``; a notification ends the wait at once.
        remaining = seconds
        while remaining > 0 and not self.stop.is_set():
            step = min(0.5, remaining)
            if any(True for _ in self._conn.notifies(timeout=step, stop_after=1)):
                return
            remaining -= step

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
