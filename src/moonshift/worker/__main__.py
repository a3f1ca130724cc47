"""``python -m moonshift.worker RUN_ID [--owner LEASE_OWNER]``: execute one run here.

A daemon passes ``--owner`` (it claimed the run's lease already); ``run-now`` does not, and
the worker claims the run itself.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import NoReturn

from moonshift.domain.lifecycle import State
from moonshift.service import Moonshift, Settings


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m moonshift.worker")
    parser.add_argument("run_id", type=int)
    parser.add_argument("--owner")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    app = Moonshift(Settings.from_env())
    try:
        run = app.execute_run(args.run_id, owner=args.owner)
    except KeyboardInterrupt:
        return 130
    finally:
        app.close()
    return 0 if run.state in (State.COMPLETED, State.PAUSED) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
