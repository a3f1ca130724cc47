"""The body of a worker process: execute one run, then exit.

Workers are forked from a server process that has moonshift imported already, so a worker
starts in milliseconds instead of re-importing everything for every run.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import NoReturn

from moonshift.files import FILE_MODE


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def worker_actor() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


def execute(
    run_id: int, owner: str | None, state_url: str, home: Path, *, helper: bool = False
) -> int:
    """Execute a run here (or, ``helper``, copy key ranges of a run another worker holds);
    the exit code: 0 completed or paused, 1 otherwise, 130 stopped.

    SIGTERM stops the run (it is recorded as cancelled). ``owner`` is the lease holder a
    daemon claimed it for; without one the worker claims the run itself.
    """
    from moonshift.clock import SystemClock
    from moonshift.domain.lifecycle import SUCCEEDED, State
    from moonshift.runtime.runs import RunContext
    from moonshift.store import StateStore
    from moonshift.worker.execute import claim_and_execute
    from moonshift.worker.helping import help_run

    signal.signal(signal.SIGTERM, _interrupt)
    store = StateStore.open(state_url)
    ctx = RunContext(store, home, SystemClock(), os.environ, worker_actor())
    try:
        if helper:
            assert owner is not None
            help_run(ctx, run_id, owner)
            return 0
        run = claim_and_execute(ctx, run_id, owner)
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()
    return 0 if run is not None and (run.state in SUCCEEDED or run.state is State.PAUSED) else 1


def work(
    run_id: int,
    owner: str | None,
    state_url: str,
    home: str,
    log_path: str,
    place: tuple[str, dict[str, str]] | None = None,
    helper: bool = False,
) -> None:
    """Run in a fresh session, output to the worker's log, and leave with the run's outcome.
    ``place``: the launching process's working folder and environment as they are now (a
    forked worker would otherwise see them as they were when its fork server started)."""
    os.setsid()
    if place is not None:
        os.chdir(place[0])
        os.environ.clear()
        os.environ.update(place[1])
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(MOONSHIFT_STATE=state_url, MOONSHIFT_HOME=home)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        code = execute(run_id, owner, state_url, Path(home), helper=helper)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)
