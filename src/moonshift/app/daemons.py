"""Daemons: run the scheduler here (in the foreground or a thread), start one detached, stop
it, and see which daemons share the state store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time as wallclock
from pathlib import Path

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.engine.daemon import run_daemon
from moonshift.engine.loop import SchedulerConfig
from moonshift.engine.pidfile import PidStatus, process_alive, read_pid
from moonshift.errors import Conflict, InvalidInput, Unavailable
from moonshift.files import open_private
from moonshift.worker.launcher import ProcessLauncher

# How long `daemon --detach` waits for the new daemon to write its pid file: a process that
# starts in a second on a quiet machine takes most of a minute on a saturated one.
DAEMON_START_SECONDS = 120

__all__ = ["Daemons", "SchedulerConfig"]


def _pid_view(status: PidStatus) -> views.PidFile:
    return views.PidFile(pid=status.pid, alive=status.alive, path=str(status.path))


class Daemons(Family):
    def config(
        self,
        *,
        max_concurrent: int = 4,
        pools: dict[str, int] | None = None,
        check_interval: float = 30.0,
        poll: float = 1.0,
    ) -> SchedulerConfig:
        for name, size in (pools or {}).items():
            if size < 1:
                raise InvalidInput("pools", f'pool "{name}" must allow at least 1 run')
        return SchedulerConfig(
            check_interval_seconds=check_interval,
            max_concurrent_runs=max_concurrent,
            pools=dict(pools or {}),
            poll_seconds=poll,
        )

    def run(self, config: SchedulerConfig, *, stop: threading.Event | None = None) -> None:
        """Run the scheduler in this thread until ``stop`` is set (or SIGTERM in the main
        thread); its workers are processes of their own."""
        settings = self.ctx.settings
        launcher = ProcessLauncher(home=settings.home, state_url=settings.state_url)
        run_daemon(settings.state_url, settings.home, config, launcher, stop=stop)

    def ready(self) -> views.Health:
        """Whether the state store answers; Unavailable when it does not."""
        try:
            self.store.count_runs_by_state()
        except Exception as exc:  # whatever the driver raises, the answer is "not ready"
            raise Unavailable(f"the state store does not answer: {type(exc).__name__}") from None
        return views.Health(status="ok", store=self.ctx.store.engine.dialect.name)

    def status(self) -> views.DaemonStatus:
        return views.DaemonStatus(
            pid_file=_pid_view(read_pid(self.ctx.settings.home)),
            live=[
                views.Daemon.model_validate(d)
                for d in self.store.live_daemons(self.ctx.clock.now())
            ],
        )

    def up(self, pid: int) -> bool:
        """Whether a daemon of process ``pid`` heartbeats into this store."""
        return any(d.pid == pid for d in self.store.live_daemons(self.ctx.clock.now()))

    def spawn(self, args: list[str]) -> views.DaemonStarted:
        """Start ``moonshift daemon ARGS`` detached; returns once it is up."""
        home = self.ctx.settings.home
        current = read_pid(home)
        if current.alive:
            raise Conflict(f"a daemon is already running here (pid {current.pid})")
        logs = home / "logs"
        log_path = logs / "daemon.log"
        with open_private(log_path, append=True) as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moonshift.cli", "daemon", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.ctx.settings.child_env(self.ctx.environ),
                start_new_session=True,
            )
        deadline = wallclock.monotonic() + DAEMON_START_SECONDS
        while wallclock.monotonic() < deadline:
            if process.poll() is not None:
                said = _last_line(log_path)
                raise Unavailable(f"the daemon exited at once ({said}); see {log_path}")
            if read_pid(home).pid == process.pid:
                return views.DaemonStarted(pid=process.pid, log=str(log_path))
            wallclock.sleep(0.1)
        process.terminate()  # said it did not start: it must not start after all
        raise Unavailable(f"the daemon did not start in {DAEMON_START_SECONDS}s; see {log_path}")

    def stop(self, *, timeout: float = 60.0) -> views.DaemonStopped:
        """SIGTERM this home's daemon and wait for it to exit; a stale pid file is removed."""
        home = self.ctx.settings.home
        status = read_pid(home)
        if status.pid is None:
            raise Conflict("no daemon is running here (no pid file)")
        if status.stale:
            status.path.unlink(missing_ok=True)
            return views.DaemonStopped(pid=status.pid, was_stale=True)
        os.kill(status.pid, signal.SIGTERM)
        deadline = wallclock.monotonic() + timeout
        # until the process is gone: it removes its pid file a moment before it exits
        while wallclock.monotonic() < deadline and process_alive(status.pid):
            wallclock.sleep(0.1)
        if process_alive(status.pid):
            raise Unavailable(f"daemon pid {status.pid} did not stop within {timeout:.0f}s")
        return views.DaemonStopped(pid=status.pid, was_stale=False)


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1].removeprefix("error: ") if lines else "it said nothing"
