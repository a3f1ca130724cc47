"""A daemon's pid file names a process only while that process is the one that wrote it: a
pid reused by a later process (pids wrap) reads as stale, so `daemon stop` signals nobody."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from moonshift.engine.pidfile import pid_file, read_pid


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_pid_file_written_by_its_process_names_it(tmp_path: Path) -> None:
    process = _sleeper()
    try:
        pid_file(tmp_path).write_text(f"{process.pid}\n")
        status = read_pid(tmp_path)
        assert (status.pid, status.alive, status.stale) == (process.pid, True, False)
    finally:
        process.kill()
        process.wait()
    assert read_pid(tmp_path).stale


def test_a_pid_file_older_than_its_process_is_stale(tmp_path: Path) -> None:
    process = _sleeper()
    try:
        path = pid_file(tmp_path)
        path.write_text(f"{process.pid}\n")
        an_hour_ago = time.time() - 3600
        os.utime(path, (an_hour_ago, an_hour_ago))  # as if a daemon long dead wrote it
        status = read_pid(tmp_path)
        assert (status.pid, status.alive, status.stale) == (process.pid, False, True)
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
