"""SQLite to SQLite, the rows alone: moonshift's copy phase (preparing the target, the key
ranges and every batch with its checkpoint; no process start-up, no planning, no estimate)
beside one ``ATTACH`` and ``INSERT ... SELECT`` in one transaction, in turn, same run.

    .venv/bin/python bench/sqlite_attach.py [--rows 1000000] [--repeat 3] [--batch-size 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from copy_throughput import attach_in_process, sq_db

from moonshift.app import Moonshift, Settings
from moonshift.copy import runner
from moonshift.domain.spec import MigrationSpec

PHASES: list[float] = []
_run = runner.CopyRunner.run


def _timed(self: runner.CopyRunner) -> Any:
    started = time.perf_counter()
    try:
        return _run(self)
    finally:
        PHASES.append(time.perf_counter() - started)


def reference(source: Path, target: Path) -> float:
    sq_db(target, ddl=True)
    return attach_in_process(source, target)


def ours(source: Path, folder: Path, batch_size: int) -> None:
    app = Moonshift(Settings(state_url=f"sqlite:///{folder / 'state.db'}", home=folder))
    spec = {
        "id": "sq",
        "kind": "copy",
        "source": {"url": f"sqlite:///{source}"},
        "target": {"url": f"sqlite:///{folder / 'target.db'}"},
        "copy": {"batch_size": batch_size},
    }
    app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
    app.runs.execute(app.runs.run_now("sq", actor="bench").id)
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100_000)
    args = parser.parse_args()
    runner.CopyRunner.run = _timed  # type: ignore[method-assign]
    refs = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "source.db"
        sq_db(source, fill=args.rows)
        for attempt in range(args.repeat):
            refs.append(reference(source, folder / f"ref{attempt}.db"))
            (folder / str(attempt)).mkdir()
            ours(source, folder / str(attempt), args.batch_size)
    print(f"SQLite -> SQLite, {args.rows:,} rows, batch_size {args.batch_size:,}, seconds per run:")
    print("  ATTACH + INSERT ... SELECT: " + ", ".join(f"{t:.2f}" for t in refs))
    print("  moonshift's copy phase    : " + ", ".join(f"{t:.2f}" for t in PHASES))
    print(f"  ratio (best / best): {min(refs) / min(PHASES):.2f}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  load average: {load} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
