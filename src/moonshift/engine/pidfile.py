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
    """The pid file's process; a process that started after the file was written is not
    the daemon that wrote it (its pid was reused), so the file is stale and nobody is
    signalled by mistake."""
    path = pid_file(home)
    try:
        pid = int(path.read_text().strip())
        written = path.stat().st_mtime
    except (FileNotFoundError, ValueError):
        return PidStatus(None, False, path)
    return PidStatus(pid, process_alive(pid) and not _started_after(pid, written), path)


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


def _started_after(pid: int, when: float) -> bool:
    """Whether process ``pid`` started after ``when`` (epoch seconds); False where /proc
    does not tell. The boot time is in whole seconds, hence the margin."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") > when + 2.0
