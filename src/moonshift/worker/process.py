"""The body of a worker process: execute one run, then exit.

Workers are forked from a server process that has moonshift imported already, so a worker
starts in milliseconds instead of re-importing everything for every run.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import NoReturn


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def work(run_id: int, owner: str | None, state_url: str, home: str, log_path: str) -> None:
    """Run in a fresh session, output to the worker's log, and leave with the run's outcome."""
    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(MOONSHIFT_STATE=state_url, MOONSHIFT_HOME=home)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        from moonshift.domain.lifecycle import State
        from moonshift.service import Moonshift, Settings

        app = Moonshift(Settings(state_url=state_url, home=Path(home)))
        try:
            run = app.execute_run(run_id, owner=owner)
            code = 0 if run.state in (State.COMPLETED, State.PAUSED) else 1
        finally:
            app.close()
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)
