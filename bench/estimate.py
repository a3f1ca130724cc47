"""How close a plan's estimate is to the copy it predicts.

SQLite to SQLite (and PostgreSQL to MariaDB with --cross-rows): a table of ``--rows`` rows
(default 1,000,000), its plan measured (a short sample read and written as the copy does it),
then the copy itself. Prints the estimate, the actual duration of the running state, and
their ratio (goal: within 0.75 to 1.25).

    .venv/bin/python bench/estimate.py [--rows 1000000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec


def fill(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE big (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, "
            "amount NUMERIC(12,2), note TEXT, at TEXT)"
        )
        db.executemany(
            "INSERT INTO big VALUES (?, ?, ?, ?, ?)",
            (
                (
                    i,
                    i % 97,
                    round((i % 100_000) / 7.0, 2),
                    f"note {i:012d} {i % 1013}",
                    f"2026-11-{1 + i % 28:02d} 10:{i % 60:02d}:00",
                )
                for i in range(1, rows + 1)
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fill(folder / "s.db", args.rows)
        app = Moonshift(
            Settings(state_url=f"sqlite:///{folder / 'state.db'}", home=folder / "home"),
            environ={},
        )
        spec = {
            "id": "big",
            "kind": "copy",
            "source": {"url": f"sqlite:///{folder / 's.db'}"},
            "target": {"url": f"sqlite:///{folder / 't.db'}"},
            "copy": {"batch_size": args.batch},
        }
        app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
        started = time.perf_counter()
        run = app.runs.execute(app.runs.run_now("big", actor="bench").id)
        wall = time.perf_counter() - started
        assert run.state is State.COMPLETED, run.reason
        plan = app.plans.of_run(run.id)
        assert plan.estimate is not None and run.started_at and run.ended_at
        estimate = float(plan.estimate["seconds"])
        actual = (run.ended_at - run.started_at).total_seconds()
        table = plan.estimate["tables"][0]
        print(f"rows: {args.rows:,}, batch {args.batch:,}; sample {table['sample_rows']:,} rows")
        print(
            f"sample rates: read {table['read_rows_per_second']:,.0f} rows/s, "
            f"write {table['write_rows_per_second']:,.0f} rows/s"
        )
        print(f"estimate: {estimate:.1f} s; actual (running): {actual:.1f} s; wall {wall:.1f} s")
        done = run.progress.tables.get("big") if run.progress else None
        if done is not None:
            print(f"copy's own stages: {done.seconds}, elapsed {done.elapsed:.1f} s")
        print(f"ratio estimate/actual: {estimate / actual:.2f} (goal 0.75 to 1.25)")
        app.close()


if __name__ == "__main__":
    main()
