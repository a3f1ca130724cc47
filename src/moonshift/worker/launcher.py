"""Starting workers: each run executes in its own process, so a crash never takes the daemon."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
from pathlib import Path

from moonshift.files import private_folder
from moonshift.worker.process import work


class ProcessLauncher:
    """Workers forked from a preloaded server process (``multiprocessing`` forkserver)."""

    def __init__(self, *, home: Path, state_url: str) -> None:
        self.home = home
        self.state_url = state_url
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(
            ["moonshift.worker.execute", "moonshift.worker.process"]
        )
        # by pid: a run taken over may have a new worker while its old one is being reaped
        self._workers: dict[int, tuple[int, multiprocessing.process.BaseProcess]] = {}

    def launch(self, run_id: int, owner: str) -> int:
        logs = self.home / "logs" / "workers"
        private_folder(logs)
        process = self._context.Process(
            target=work,
            args=(
                run_id,
                owner,
                self.state_url,
                str(self.home),
                str(logs / f"{run_id}.log"),
                (os.getcwd(), dict(os.environ)),
            ),
            name=f"moonshift-run-{run_id}",
        )
        process.start()
        # A worker outlives a daemon that stops (a command runs on to its end), so keep
        # multiprocessing from joining or terminating it when this process exits.
        multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
        assert process.pid is not None
        self._workers[process.pid] = (run_id, process)
        return process.pid

    def running(self) -> set[int]:
        return {run_id for run_id, p in self._workers.values() if p.exitcode is None}

    def finished(self) -> list[tuple[int, int, int]]:
        ended = [
            (run_id, pid, p.exitcode)
            for pid, (run_id, p) in self._workers.items()
            if p.exitcode is not None
        ]
        for _, pid, _ in ended:
            self._workers.pop(pid)[1].close()
        return [(run_id, pid, int(code)) for run_id, pid, code in ended if code is not None]
