"""MariaDB and PostgreSQL, each way, the rows alone: moonshift's copy phase (preparing the
target, every batch with its checkpoint, the keys built after the rows; no process start-up,
no planning, no estimate) beside the raw pipe of ``copy_throughput``, in turn, same run. It
also prints the CPU seconds the copying process spent in that phase and, summed over the
ranges copied side by side, the seconds spent reading batches and writing them.

    .venv/bin/python bench/cross_rows.py [--rows 1000000] [--repeat 3] [--pairs my-pg,pg-my]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from copy_throughput import drop_all, my_db, pg_db, timed

from moonshift.app import Moonshift, Settings
from moonshift.copy import batches, runner
from moonshift.domain.spec import MigrationSpec

SPENT: dict[str, float] = defaultdict(float)
_run, _write = runner.CopyRunner.run, batches.RangeCopier.write


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed_run(self: runner.CopyRunner) -> Any:
    started, cpu = time.perf_counter(), _cpu()
    try:
        return _run(self)
    finally:
        SPENT["phase"] += time.perf_counter() - started
        SPENT["cpu"] += _cpu() - cpu


def _timed_write(self: batches.RangeCopier, conn: Any, batch: batches.Batch, after: Any) -> int:
    started = time.perf_counter()
    try:
        return _write(self, conn, batch, after)
    finally:
        SPENT["write"] += time.perf_counter() - started
        SPENT["read"] += batch.read_seconds


def ours(source: str, target: str) -> dict[str, float]:
    SPENT.clear()
    with tempfile.TemporaryDirectory() as home:
        app = Moonshift(Settings(state_url=f"sqlite:///{home}/state.db", home=Path(home)))
        spec = {"id": "x", "kind": "copy", "source": {"url": source}, "target": {"url": target}}
        app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
        app.runs.execute(app.runs.run_now("x", actor="bench").id)
        app.close()
    return dict(SPENT)


def mariadb_to_pg(rows: int, tag: str, _tmp: Path) -> tuple[str, Callable[[], float], str]:
    source = my_db(f"msb_src_{tag}", fill=rows)
    database = source.rsplit("/", 1)[1]

    def reference() -> float:
        target = pg_db(f"msb_ref_{tag}", ddl=True)
        return timed(
            f"mariadb -h127.0.0.1 -uroot --batch --quick -N {database} "
            "-e 'SELECT id, grp, amount, note, created, flag = 1 FROM big' | "
            f"psql -qX {target} -c 'COPY big FROM STDIN'"
        )

    return source, reference, "postgres"


def pg_to_mariadb(rows: int, tag: str, tmp: Path) -> tuple[str, Callable[[], float], str]:
    source = pg_db(f"msb_src_{tag}", fill=rows)
    file = tmp / "big.tsv"

    def reference() -> float:
        target = my_db(f"msb_ref_{tag}", ddl=True).rsplit("/", 1)[1]
        return timed(
            f"psql -qX {source} -c 'COPY (SELECT id, grp, amount, note, created, flag::int "
            f"FROM big) TO STDOUT' > {file}",
            f"mariadb -h127.0.0.1 -uroot --local-infile=1 {target} "
            f"-e \"LOAD DATA LOCAL INFILE '{file}' INTO TABLE big\"",
        )

    return source, reference, "mariadb"


PAIRS = {
    "my-pg": ("MariaDB -> PostgreSQL", mariadb_to_pg),
    "pg-my": ("PostgreSQL -> MariaDB", pg_to_mariadb),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", default=",".join(PAIRS))
    args = parser.parse_args()
    runner.CopyRunner.run = _timed_run  # type: ignore[method-assign]
    batches.RangeCopier.write = _timed_write  # type: ignore[method-assign]
    tag = uuid.uuid4().hex[:6]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for key in args.pairs.split(","):
                name, make = PAIRS[key]
                source, reference, engine = make(args.rows, tag, Path(tmp))
                refs, runs = [], []
                for _ in range(args.repeat):
                    refs.append(reference())
                    target = (pg_db if engine == "postgres" else my_db)(f"msb_ours_{tag}")
                    runs.append(ours(source, target))
                phases = [r["phase"] for r in runs]
                print(f"{name}, {args.rows:,} rows, seconds per run:")
                print("  raw pipe          : " + ", ".join(f"{t:.2f}" for t in refs))
                print("  copy phase        : " + ", ".join(f"{t:.2f}" for t in phases))
                for part in ("cpu", "read", "write"):
                    print(f"  {part:<18}: " + ", ".join(f"{r[part]:.2f}" for r in runs))
                print(f"  ratio (best / best): {min(refs) / min(phases):.2f}", flush=True)
                drop_all(tag)
    finally:
        drop_all(tag)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average: {load} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
