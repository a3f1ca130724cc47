"""``python -m moonshift.worker RUN_ID [--owner LEASE_OWNER]``: execute one run here.

A daemon passes ``--owner`` (it claimed the run's lease already); a foreground start does
not, and the worker claims the run itself. ``MOONSHIFT_STATE`` and ``MOONSHIFT_HOME`` say
where (whoever starts a worker sets both).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from moonshift.worker.process import execute


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m moonshift.worker")
    parser.add_argument("run_id", type=int)
    parser.add_argument("--owner")
    args = parser.parse_args(argv)
    state, home = os.environ.get("MOONSHIFT_STATE"), os.environ.get("MOONSHIFT_HOME")
    if not state or not home:
        parser.error("MOONSHIFT_STATE and MOONSHIFT_HOME must say where the state lives")
    return execute(args.run_id, args.owner, state, Path(home))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
