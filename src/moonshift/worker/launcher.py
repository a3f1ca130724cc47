"""Starting workers: each run executes in its own process, so a crash never takes the daemon."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.process
import os
import threading
import time
from collections.abc import Iterator
from multiprocessing import spawn
from pathlib import Path
from typing import Any

from moonshift.files import private_folder
from moonshift.worker.process import work

log = logging.getLogger("moonshift.worker")
EXIT_GRACE_SECONDS = 1.0
KILL_WAIT_SECONDS = 5.0


class ProcessLauncher:
    """Workers forked from a preloaded server process (``multiprocessing`` forkserver)."""

    def __init__(self, *, home: Path, state_url: str) -> None:
        self.home = home
        self.state_url = state_url
        self._context = multiprocessing.get_context("forkserver")
        # the connectors too: they are imported when a URL names their engine, not with
        # the job, and each worker would load its drivers again
        self._context.set_forkserver_preload(
            [
                "moonshift.worker.execute",
                "moonshift.worker.process",
                "moonshift.connectors.postgres",
                "moonshift.connectors.mysql",
                "moonshift.connectors.sqlite",
            ]
        )
        # by pid: a run taken over may have a new worker while its old one is being reaped
        self._workers: dict[int, tuple[int, multiprocessing.process.BaseProcess]] = {}

    def launch(self, run_id: int, owner: str) -> int:
        return self._start(run_id, owner, helper=False)

    def launch_helper(self, run_id: int, owner: str) -> int:
        return self._start(run_id, owner, helper=True)

    def _start(self, run_id: int, owner: str, *, helper: bool) -> int:
        logs = self.home / "logs" / "workers"
        private_folder(logs)
        process = self._context.Process(
            target=work,
            args=(
                run_id,
                owner,
                self.state_url,
                str(self.home),
                str(logs / f"{run_id}{'-helper' if helper else ''}.log"),
                (os.getcwd(), dict(os.environ)),
                helper,
            ),
            name=f"moonshift-{'help' if helper else 'run'}-{run_id}",
        )
        with _without_main():
            process.start()
        # A worker outlives a daemon that stops (a command runs on to its end), so keep
        # multiprocessing from joining or terminating it when this process exits.
        multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
        assert process.pid is not None
        self._workers[process.pid] = (run_id, process)
        return process.pid

    def running(self) -> set[int]:
        return {run_id for run_id, p in self._workers.values() if p.exitcode is None}

    def end(self, run_id: int) -> bool:
        workers = [(pid, p) for pid, (of, p) in self._workers.items() if of == run_id]
        _join_all([p for _, p in workers], EXIT_GRACE_SECONDS)  # one that ended its run exits
        alive = [(pid, p) for pid, p in workers if p.exitcode is None]
        for pid, process in alive:
            log.warning("run %d: killing worker %d, which stalled past its lease", run_id, pid)
            process.kill()  # a copy resumes from its checkpoint, as after any crash
        _join_all([p for _, p in alive], KILL_WAIT_SECONDS)
        return all(p.exitcode is not None for _, p in alive)

    def finished(self) -> list[tuple[int, int, int]]:
        ended = [
            (run_id, pid, p.exitcode)
            for pid, (run_id, p) in self._workers.items()
            if p.exitcode is not None
        ]
        for _, pid, _ in ended:
            self._workers.pop(pid)[1].close()
        return [(run_id, pid, int(code)) for run_id, pid, code in ended if code is not None]


def _join_all(processes: list[multiprocessing.process.BaseProcess], seconds: float) -> None:
    """Wait for every one of ``processes`` to exit, ``seconds`` in all: the daemon's loop
    waits meanwhile."""
    deadline = time.monotonic() + seconds
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))


_PREPARING = threading.Lock()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a worker without re-running the program's ``__main__`` in it.

    multiprocessing hands a child the path of a plain script (``python job.py``) so that
    it can import it again, which runs the script's top-level code once more in every
    worker: a Python API user's ``trigger_event`` would fire twice. A worker needs only
    moonshift's modules (``work`` lives in one), so its preparation data leaves the main
    module out. (``python -m moonshift.cli`` is never re-run: multiprocessing skips a
    ``__main__`` module by name.)"""
    original = spawn.get_preparation_data

    def without_main(name: str) -> dict[str, Any]:
        data = original(name)
        return {k: v for k, v in data.items() if not k.startswith("init_main_from")}

    with _PREPARING:
        spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            spawn.get_preparation_data = original
