"""``python -m moonshift.worker RUN_ID [--owner LEASE_OWNER]``: execute one run here.

A daemon passes ``--owner`` (it claimed the run's lease already); ``run-now`` does not, and
the worker claims the run itself.
"""

from __future__ import annotations

import argparse
import sys

from moonshift.service import Settings
from moonshift.worker.process import execute


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m moonshift.worker")
    parser.add_argument("run_id", type=int)
    parser.add_argument("--owner")
    args = parser.parse_args(argv)
    return execute(args.run_id, args.owner, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
