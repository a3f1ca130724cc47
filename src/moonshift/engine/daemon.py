"""``moonshift daemon``: the engine's loop in a process, with a pid file and clean shutdown."""

from __future__ import annotations

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
from moonshift.errors import Conflict
from moonshift.files import hold_alone, private_folder
from moonshift.jobs.registry import kind_of
from moonshift.runtime.runs import spec_for
from moonshift.seams import Clock, EngineStore, Launcher, Waiter
from moonshift.store import StateStore

log = logging.getLogger("moonshift.daemon")
SHUTDOWN_GRACE_SECONDS = 20.0
# A daemon counts as live for 30 s after its last heartbeat: one every 5 s keeps it live
# without a write at every wake-up.
HEARTBEAT_SECONDS = 5.0


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
    waiter = store.waiter(stop)
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
    waiter: Waiter,
    clock: Clock,
    config: SchedulerConfig,
    stop: threading.Event,
) -> None:
    """Tick when something is due, when the store changed, and, where not every change
    can be seen (or a worker may exit), every ``poll_seconds``; heartbeat in between."""
    beat, due, changed = float("-inf"), 0.0, True
    while not stop.is_set():
        if time.monotonic() - beat >= HEARTBEAT_SECONDS:
            store.daemon_heartbeat(engine.daemon_id, now=clock.now())
            beat = time.monotonic()
        if changed or time.monotonic() >= due:
            waiter.mark()  # before the tick reads: a change made while it runs wakes it again
            wake = engine.tick()
            delay = (wake - clock.now()).total_seconds()
            # a worker's exit changes nothing in the store
            if engine.launcher.running() or not waiter.sees_every_change:
                delay = min(delay, config.poll_seconds)
            due = time.monotonic() + max(0.02, delay)
        until = min(due, beat + HEARTBEAT_SECONDS)
        changed = waiter.wait(max(0.0, until - time.monotonic()), poll=config.poll_seconds)


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
