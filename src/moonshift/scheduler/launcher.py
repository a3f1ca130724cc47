"""Starting workers: each run executes in its own process, so a crash never takes the daemon."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class Launcher(Protocol):
    def launch(self, run_id: int, owner: str) -> int:
        """Start executing a run whose lease ``owner`` holds; returns the worker's pid."""
        ...

    def running(self) -> set[int]:
        """Run ids whose workers this launcher started and that still run."""
        ...

    def finished(self) -> list[tuple[int, int]]:
        """(run id, exit code) of workers that ended since the last call."""
        ...


class ProcessLauncher:
    def __init__(self, *, home: Path, environ: Mapping[str, str]) -> None:
        self.home = home
        self.environ = dict(environ)
        self._workers: dict[int, subprocess.Popen[bytes]] = {}

    def launch(self, run_id: int, owner: str) -> int:
        logs = self.home / "logs" / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{run_id}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moonshift.worker", str(run_id), "--owner", owner],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.environ,
                start_new_session=True,
            )
        self._workers[run_id] = process
        return process.pid

    def running(self) -> set[int]:
        return {run_id for run_id, p in self._workers.items() if p.poll() is None}

    def finished(self) -> list[tuple[int, int]]:
        ended = [
            (run_id, code) for run_id, p in self._workers.items() if (code := p.poll()) is not None
        ]
        for run_id, _ in ended:
            del self._workers[run_id]
        return ended
