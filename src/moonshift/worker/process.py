"""The body of a worker process: execute one run, then exit.

Workers are forked from a server process that has moonshift imported already, so a worker
starts in milliseconds instead of re-importing everything for every run.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from moonshift.service import Settings


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def execute(run_id: int, owner: str | None, settings: Settings) -> int:
    """Execute a run here; the exit code: 0 completed or paused, 1 otherwise, 130 stopped.

    SIGTERM stops the run (it is recorded as cancelled). ``owner`` is the lease holder a
    daemon claimed it for; without one the worker claims the run itself.
    """
    from moonshift.domain.lifecycle import State
    from moonshift.service import Moonshift

    signal.signal(signal.SIGTERM, _interrupt)
    app = Moonshift(settings)
    try:
        run = app.execute_run(run_id, owner=owner)
    except KeyboardInterrupt:
        return 130
    finally:
        app.close()
    return 0 if run.state in (State.COMPLETED, State.PAUSED) else 1


def work(run_id: int, owner: str | None, state_url: str, home: str, log_path: str) -> None:
    """Run in a fresh session, output to the worker's log, and leave with the run's outcome."""
    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(MOONSHIFT_STATE=state_url, MOONSHIFT_HOME=home)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        from moonshift.service import Settings

        code = execute(run_id, owner, Settings(state_url=state_url, home=Path(home)))
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)
