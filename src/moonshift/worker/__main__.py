"""``python -m moonshift.worker RUN_ID``: execute one run in this process (used by run-now)."""

from __future__ import annotations

import signal
import sys
from typing import NoReturn

from moonshift.service import Moonshift, Settings


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    app = Moonshift(Settings.from_env())
    try:
        run = app.execute_run(int(argv[0]))
    except KeyboardInterrupt:
        return 130
    finally:
        app.close()
    return 0 if run.state.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
