"""``moonshift daemon``: the engine's loop in a process, with a pid file and clean shutdown."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from moonshift.clock import Clock, SystemClock
from moonshift.domain.lifecycle import State
from moonshift.scheduler.engine import PAUSABLE_KINDS, Engine, SchedulerConfig
from moonshift.scheduler.launcher import ProcessLauncher
from moonshift.store import StateStore
from moonshift.store.listen import Waiter
from moonshift.worker.execute import spec_for

log = logging.getLogger("moonshift.daemon")
SHUTDOWN_GRACE_SECONDS = 20.0


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


def setup_logging(json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("moonshift")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def run_daemon(
    state_url: str,
    home: Path,
    config: SchedulerConfig,
    *,
    stop: threading.Event | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the scheduler until ``stop`` is set (or SIGTERM/SIGINT in the main thread)."""
    stop = stop or threading.Event()
    clock = clock or SystemClock()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    store = StateStore.open(state_url)
    daemon_id = f"{socket.gethostname()}:{os.getpid()}"
    engine = Engine(
        store,
        clock,
        ProcessLauncher(home=home, state_url=state_url),
        config,
        daemon_id=daemon_id,
        home=home,
        environ=os.environ,
    )
    store.register_daemon(daemon_id, host=socket.gethostname(), pid=os.getpid(), now=clock.now())
    home.mkdir(parents=True, exist_ok=True)
    pid_file(home).write_text(f"{os.getpid()}\n")
    log.info(
        "daemon %s started; state %s; max_concurrent_runs %d",
        daemon_id,
        store.url,
        config.max_concurrent_runs,
    )
    waiter = Waiter(store.engine, stop)
    try:
        while not stop.is_set():
            wake = engine.tick()
            store.daemon_heartbeat(daemon_id, now=clock.now())
            delay = (wake - clock.now()).total_seconds()
            waiter.wait(max(0.02, min(delay, config.poll_seconds)))
    finally:
        waiter.close()
        log.info("daemon %s stopping", daemon_id)
        store.daemon_heartbeat(daemon_id, now=clock.now(), stopping=True)
        _pause_own_runs(engine, store, clock)
        engine.preflight.close()
        store.remove_daemon(daemon_id)
        store.close()
        if read_pid(home).pid == os.getpid():
            pid_file(home).unlink(missing_ok=True)
        log.info("daemon %s stopped", daemon_id)


def _pause_own_runs(engine: Engine, store: StateStore, clock: Clock) -> None:
    """Pausable runs stop at a checkpoint (reason shutdown) and resume under the next daemon;
    commands cannot pause, so their workers run on and finish on their own."""
    waiting = []
    for run_id in engine.launcher.running():
        run = store.get_run(run_id)
        if run.state is State.RUNNING and spec_for(store, run).kind in PAUSABLE_KINDS:
            store.request_control(run_id, action="pause", reason="shutdown", now=clock.now())
            waiting.append(run_id)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    while waiting and time.monotonic() < deadline and set(waiting) & engine.launcher.running():
        time.sleep(0.1)
    if waiting:
        log.info("paused runs %s at their checkpoints for the next daemon", waiting)
