"""``moonshift daemon``: the engine's loop in a process, with a pid file and clean shutdown."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import make_url

from moonshift.clock import SystemClock
from moonshift.domain.control import Action, ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.engine.loop import Engine, SchedulerConfig
from moonshift.engine.outbox import Dispatcher
from moonshift.engine.pidfile import pid_file, read_pid
from moonshift.errors import Conflict, first_line
from moonshift.files import hold_alone, private_folder
from moonshift.jobs.registry import kind_of
from moonshift.runtime.runs import spec_for
from moonshift.seams import Clock, EngineStore, Launcher, Waiter
from moonshift.store import StateStore
from moonshift.store.outage import unreachable

log = logging.getLogger("moonshift.daemon")
SHUTDOWN_GRACE_SECONDS = 20.0
# A daemon counts as live for 30 s after its last heartbeat: one every 5 s keeps it live
# without a write at every wake-up.
HEARTBEAT_SECONDS = 5.0
# While the state store cannot be reached: the first wait before trying again, and the
# longest (each failure doubles it).
OUTAGE_FIRST_WAIT = 0.5
OUTAGE_LAST_WAIT = 30.0


def run_daemon(
    state_url: str,
    home: Path,
    config: SchedulerConfig,
    launcher: Launcher,
    *,
    stop: threading.Event | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the scheduler until ``stop`` is set (or SIGTERM/SIGINT in the main thread);
    ``launcher`` starts the workers."""
    stop = stop or threading.Event()
    clock = clock or SystemClock()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    store = StateStore.open(state_url)
    try:
        alone = _alone_on_sqlite(store.url)
    except Conflict:
        store.close()
        raise
    daemon_id = f"{socket.gethostname()}:{os.getpid()}"
    engine = Engine(
        store,
        clock,
        launcher,
        config,
        daemon_id=daemon_id,
        home=home,
        environ=os.environ,
    )
    store.register_daemon(daemon_id, host=socket.gethostname(), pid=os.getpid(), now=clock.now())
    private_folder(home)
    pid_file(home).write_text(f"{os.getpid()}\n")
    log.info(
        "daemon %s started; state %s; max_concurrent_runs %d",
        daemon_id,
        store.url,
        config.max_concurrent_runs,
    )
    waiter = _Waiting(store, stop)
    dispatcher = Dispatcher(store, clock, os.environ)
    delivering = threading.Thread(
        target=dispatcher.run, args=(stop, config.poll_seconds), name="notify", daemon=True
    )
    delivering.start()
    try:
        _loop(engine, store, waiter, clock, config, stop)
    finally:
        waiter.close()
        log.info("daemon %s stopping", daemon_id)
        store.daemon_heartbeat(daemon_id, now=clock.now(), stopping=True)
        _pause_own_runs(engine, store, clock)
        engine.preflight.close()
        delivering.join(timeout=SHUTDOWN_GRACE_SECONDS)
        if not delivering.is_alive():
            _last_deliveries(dispatcher)
        store.remove_daemon(daemon_id)
        store.close()
        if alone is not None:
            alone.close()
        if read_pid(home).pid == os.getpid():
            pid_file(home).unlink(missing_ok=True)
        log.info("daemon %s stopped", daemon_id)


def _loop(
    engine: Engine,
    store: EngineStore,
    waiter: _Waiting,
    clock: Clock,
    config: SchedulerConfig,
    stop: threading.Event,
) -> None:
    """Tick when something is due, when the store changed, and, where not every change
    can be seen (or a worker may exit), every ``poll_seconds``; heartbeat in between. A
    store that cannot be reached is tried again, less often the longer it stays away."""
    beat, due, changed = float("-inf"), 0.0, True
    outage = _Outage()
    while not stop.is_set():
        try:
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                store.daemon_heartbeat(engine.daemon_id, now=clock.now())
                beat = time.monotonic()
            if changed or time.monotonic() >= due:
                waiter.mark()  # before the tick reads: a change made while it runs wakes it
                wake = engine.tick()
                delay = (wake - clock.now()).total_seconds()
                # a worker's exit changes nothing in the store
                if engine.launcher.running() or not waiter.sees_every_change:
                    delay = min(delay, config.poll_seconds)
                due = time.monotonic() + max(0.02, delay)
            outage.over()
            until = min(due, beat + HEARTBEAT_SECONDS)
            changed = waiter.wait(max(0.0, until - time.monotonic()), poll=config.poll_seconds)
        except Exception as exc:
            if not unreachable(exc):
                raise
            waiter.lost()
            engine.forget()  # a claim may have failed after the engine moved on: read again
            changed = True  # whatever was due is still due: look at once when it is back
            stop.wait(outage.began(exc))


class _Outage:
    """How long to wait before the next try while the state store is away: from half a
    second, doubled at each failure, up to half a minute; each start and end logged."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._wait = OUTAGE_FIRST_WAIT

    def began(self, exc: BaseException) -> float:
        """A failed try: the seconds to wait before the next."""
        first = first_line(exc)
        if self._since is None:
            self._since = time.monotonic()
            log.warning("the state store cannot be reached (%s); trying again", first)
        else:
            log.info("the state store is still away (%s)", first)
        wait, self._wait = self._wait, min(self._wait * 2, OUTAGE_LAST_WAIT)
        return wait

    def over(self) -> None:
        if self._since is not None:
            log.warning("the state store is back after %.0f s", time.monotonic() - self._since)
            self._since, self._wait = None, OUTAGE_FIRST_WAIT


class _Waiting:
    """The store's ``Waiter``, made again after the store was away (a PostgreSQL restart
    ends the connection that listens)."""

    def __init__(self, store: EngineStore, stop: threading.Event) -> None:
        self._store, self._stop = store, stop
        self._waiter: Waiter | None = store.waiter(stop)

    def _current(self) -> Waiter:
        if self._waiter is None:
            self._waiter = self._store.waiter(self._stop)
        return self._waiter

    @property
    def sees_every_change(self) -> bool:
        return self._current().sees_every_change

    def mark(self) -> None:
        self._current().mark()

    def wait(self, seconds: float, *, poll: float) -> bool:
        return self._current().wait(seconds, poll=poll)

    def lost(self) -> None:
        """Drop the waiter: the next use makes a new one."""
        if self._waiter is not None:
            with contextlib.suppress(Exception):
                self._waiter.close()
            self._waiter = None

    def close(self) -> None:
        self.lost()


def _alone_on_sqlite(url: str) -> BinaryIO | None:
    """On an SQLite state file, the lock that keeps a second daemon off it (two would both
    start every fire: SQLite has no row locks to share the work by); Conflict when another
    daemon holds it. Several daemons share a PostgreSQL state store."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    held = hold_alone(Path(f"{parsed.database}.daemon.lock"))
    if isinstance(held, str):
        raise Conflict(
            f"another moonshift daemon (pid {held}) already runs on the state file "
            f"{parsed.database}; an SQLite state store takes one daemon (stop that one, or "
            "share a PostgreSQL state store between several)"
        )
    return held


def _last_deliveries(dispatcher: Dispatcher) -> None:
    """Deliver what the shutdown itself caused (runs paused), once, before leaving."""
    try:
        dispatcher.pass_once()
    except Exception:  # the outbox keeps them for the next daemon
        log.exception("last notifications not delivered; the next daemon will")


def _pause_own_runs(engine: Engine, store: EngineStore, clock: Clock) -> None:
    """Pausable runs stop at a checkpoint (reason shutdown) and resume under the next daemon;
    commands cannot pause, so their workers run on and finish on their own."""
    waiting = []
    for run_id in engine.launcher.running():
        run = store.get_run(run_id)
        if run.state is State.RUNNING and kind_of(spec_for(store, run).kind).can_pause:
            store.request_control(
                run_id, ControlRequest(action=Action.PAUSE, reason="shutdown"), now=clock.now()
            )
            waiting.append(run_id)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    while waiting and time.monotonic() < deadline and set(waiting) & engine.launcher.running():
        time.sleep(0.1)
    if waiting:
        log.info("paused runs %s at their checkpoints for the next daemon", waiting)
