"""The pid file of a home's daemon: written by the daemon, read to stop it or show it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def pid_file(home: Path) -> Path:
    return home / "daemon.pid"


@dataclass(frozen=True)
class PidStatus:
    pid: int | None
    alive: bool
    path: Path

    @property
    def stale(self) -> bool:
        return self.pid is not None and not self.alive


def read_pid(home: Path) -> PidStatus:
    path = pid_file(home)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return PidStatus(None, False, path)
    return PidStatus(pid, process_alive(pid), path)


def process_alive(pid: int) -> bool:
    """True while a process runs; a zombie (dead, not yet reaped by its parent) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
