"""The clock of a real process (the seam is ``Clock`` in ``moonshift.seams``; tests hand the
engine a clock they move themselves)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@contextmanager
def beating(beat: Callable[[], None], every: float, name: str) -> Iterator[None]:
    """Call ``beat()`` every ``every`` seconds from a side thread while the block runs (a
    heartbeat while the caller's own thread is held by a long statement or a slow start)."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every):
            beat()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
