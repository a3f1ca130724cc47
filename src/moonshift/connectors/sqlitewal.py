"""SQLite's WAL copied into the database file by a side connection, while a writer goes on
writing batches on its own."""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("moonshift.copy")
CHECKPOINT_SECONDS = 0.05  # how often the side connection looks for frames to copy
WAL_LIMIT_BYTES = 64 << 20
PACE_SECONDS = 30.0  # the longest a writer waits for the copy to catch up


class WalCopier:
    """A commit that finds more than 1,000 pages in the WAL copies them into the database
    file then and there (a checkpoint), holding the writer for a third of a batch's time.
    Here a side connection copies them in a thread while the writer writes the next batch:
    a PASSIVE checkpoint neither waits for the writer nor holds it. The WAL starts over only
    when a transaction begins with all of it copied, which a writer that never pauses rarely
    meets; so ``pace()``, before each batch, waits for the copy to catch up once the WAL
    holds more than ``WAL_LIMIT_BYTES``, and the WAL stays about that long; unless a reader
    of an older snapshot keeps frames from being copied (then the WAL grows, as it would
    anyway, and the writer does not wait)."""

    def __init__(self, side: sqlite3.Connection) -> None:
        self.side = side
        (page_size,) = side.execute("PRAGMA page_size").fetchone()
        self.limit_frames = WAL_LIMIT_BYTES // int(page_size)
        self.frames = 0  # in the WAL, at the last checkpoint
        self.turn = threading.Condition()
        self.asked = 0  # the writer's requests to catch up, numbered
        self.answered = 0  # the last request that a checkpoint begun after it answered
        self.copied = 0  # frames the last checkpoint found copied
        self.wake = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="moonshift-checkpoint", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.wake.set()
        self.thread.join()

    def pace(self) -> None:
        if self.frames <= self.limit_frames:
            return
        with self.turn:
            self.asked += 1
            request = self.asked
            self.wake.set()
            if not self.turn.wait_for(lambda: self.answered >= request, PACE_SECONDS):
                log.debug("the WAL's copy did not catch up in %.0fs", PACE_SECONDS)

    def _loop(self) -> None:
        while not self.done.is_set():
            self.wake.wait(CHECKPOINT_SECONDS)
            self.wake.clear()
            self._checkpoint()

    def _checkpoint(self) -> None:
        with self.turn:
            request = self.asked
        try:
            _busy, frames, copied = self.side.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.debug("a checkpoint beside the batches failed", exc_info=True)
            return
        self.frames = int(frames)
        with self.turn:
            if copied in (frames, self.copied):  # all of it, or no more than last time
                self.answered = request
                self.turn.notify_all()
            self.copied = int(copied)
