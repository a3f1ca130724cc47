"""Copy throughput against the physical limit, measured in the same run.

PostgreSQL to PostgreSQL: moonshift's checkpointed copy (COPY BINARY in key-range batches,
each committed with its checkpoint) beside a raw pipe between two psql processes,
``COPY ... TO STDOUT (FORMAT binary) | COPY ... FROM STDIN (FORMAT binary)``, into the same
kind of table. Prints the ratio (goal: at least 0.8) and moonshift's peak memory. Then rows
per second for MariaDB to PostgreSQL; SQLite to SQLite beside one ``ATTACH`` and
``INSERT ... SELECT`` in one transaction.

    .venv/bin/python bench/copy_throughput.py [--rows 5000000] [--cross-rows 500000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pymysql

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec

PG = "postgresql://postgres@127.0.0.1:5432"
DDL = "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2), note TEXT)"
FILL = "INSERT INTO big SELECT g, g % 97, (g % 100000) / 7.0, md5(g::text) FROM generate_series(1, {n}) g"


def pg_db(name: str, *, fill: int = 0) -> str:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    if fill:
        with psycopg.connect(f"{PG}/{name}") as conn:
            conn.execute(DDL)
            conn.execute(FILL.format(n=fill))
            conn.execute("ANALYZE big")
    return f"{PG}/{name}"


def drop(*names: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def psql_pipe(source: str, target: str) -> float:
    with psycopg.connect(target) as conn:
        conn.execute(DDL)
    started = time.perf_counter()
    out = subprocess.Popen(
        ["psql", "-qX", source, "-c", "COPY big TO STDOUT (FORMAT binary)"], stdout=subprocess.PIPE
    )
    into = subprocess.run(
        ["psql", "-qX", target, "-c", "COPY big FROM STDIN (FORMAT binary)"],
        stdin=out.stdout,
        check=True,
    )
    assert out.wait() == 0 and into.returncode == 0
    return time.perf_counter() - started


def moonshift_copy(source: str, target: str, home: Path, mid: str, **copy: object) -> float:
    home.mkdir(parents=True, exist_ok=True)
    app = Moonshift(Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home))
    spec = {
        "id": mid,
        "kind": "copy",
        "source": {"url": source},
        "target": {"url": target},
        "copy": copy,
    }
    app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
    run = app.runs.run_now(mid, actor="bench")
    started = time.perf_counter()
    run = app.runs.execute(run.id)
    took = time.perf_counter() - started
    app.close()
    assert run.state is State.COMPLETED, run.reason
    return took


def mariadb_source(rows: int) -> str:
    name = f"msbench_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"USE {name}")
        cur.execute(
            "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount DECIMAL(12,2), note TEXT)"
        )
        step = 50_000
        for start in range(0, rows, step):
            values = ",".join(
                f"({i},{i % 97},{(i % 100000) / 7:.2f},'{uuid.UUID(int=i).hex}')"
                for i in range(start + 1, min(rows, start + step) + 1)
            )
            cur.execute(f"INSERT INTO big VALUES {values}")
    conn.close()
    return f"mysql://root@127.0.0.1:3306/{name}"


def pg_to_pg(rows: int, repeat: int, home: Path, tag: str) -> None:
    """Pipe and moonshift in turn, ``repeat`` times each: the best of each is compared."""
    src = f"msb_src_{tag}"
    pipes, ours = [], []
    try:
        source = pg_db(src, fill=rows)
        for attempt in range(repeat):
            pipes.append(psql_pipe(source, pg_db(f"msb_pipe_{tag}")))
            target = pg_db(f"msb_ours_{tag}")
            ours.append(
                moonshift_copy(
                    source, target, home / str(attempt), "pg", batch_size=50_000, parallel=1
                )
            )
    finally:
        drop(src, f"msb_pipe_{tag}", f"msb_ours_{tag}")
    pipe_s, ours_s = min(pipes), min(ours)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"PostgreSQL -> PostgreSQL, {rows:,} rows, best of {repeat} (all: pipe "
        + ", ".join(f"{t:.2f}" for t in pipes)
        + "; moonshift "
        + ", ".join(f"{t:.2f}" for t in ours)
        + ")"
    )
    print(f"  psql binary pipe : {pipe_s:6.2f} s  {rows / pipe_s:12,.0f} rows/s")
    print(
        f"  moonshift        : {ours_s:6.2f} s  {rows / ours_s:12,.0f} rows/s  (batches of 50,000, each committed with its checkpoint)"
    )
    print(f"  ratio (moonshift rate / pipe rate): {pipe_s / ours_s:.2f}   (goal >= 0.8)")
    print(f"  moonshift peak memory (this process, RSS): {peak_mb:,.0f} MiB")


SQLITE_DDL = (
    "CREATE TABLE big (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, amount NUMERIC(12,2), "
    "note TEXT)"
)


def sqlite_source(path: Path, rows: int) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute(SQLITE_DDL)
    conn.execute(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
        "INSERT INTO big SELECT n, n % 97, (n % 100000) / 7.0, hex(randomblob(16)) FROM g",
        (rows,),
    )
    conn.commit()
    conn.close()


def sqlite_attach(source: Path, target: Path) -> float:
    """The reference: one ATTACH and one INSERT ... SELECT in one transaction, WAL."""
    import sqlite3

    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(SQLITE_DDL)
    started = time.perf_counter()
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO main.big SELECT * FROM src.big")
    conn.execute("COMMIT")
    took = time.perf_counter() - started
    conn.close()
    return took


def sqlite_to_sqlite(rows: int, home: Path, repeat: int) -> tuple[list[float], list[float]]:
    """SQLite to SQLite: (moonshift's seconds, the reference's), ``repeat`` runs each in turn."""
    folder = home / "sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.db"
    sqlite_source(source, rows)
    ours, reference = [], []
    for attempt in range(repeat):
        reference.append(sqlite_attach(source, folder / f"attach{attempt}.db"))
        ours.append(
            moonshift_copy(
                f"sqlite:///{source}",
                f"sqlite:///{folder / f'ours{attempt}.db'}",
                folder / str(attempt),
                "sq",
                batch_size=100_000,
            )
        )
    return ours, reference


def print_pair(name: str, rows: int, ours: list[float], reference: list[float], ref: str) -> None:
    best, ref_best = min(ours), min(reference)
    print(
        f"{name}, {rows:,} rows, best of {len(ours)} (all: {ref} "
        + ", ".join(f"{t:.2f}" for t in reference)
        + "; moonshift "
        + ", ".join(f"{t:.2f}" for t in ours)
        + ")"
    )
    print(f"  {ref:<17}: {ref_best:6.2f} s  {rows / ref_best:12,.0f} rows/s")
    print(f"  {'moonshift':<17}: {best:6.2f} s  {rows / best:12,.0f} rows/s")
    print(f"  ratio: {ref_best / best:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=5_000_000, help="rows for PostgreSQL to PostgreSQL"
    )
    parser.add_argument("--cross-rows", type=int, default=500_000, help="rows for the other pairs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the best is kept")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        pg_to_pg(args.rows, args.repeat, home, tag)
        n = args.cross_rows
        my = mariadb_source(n)
        target = pg_db(f"msb_x_{tag}")
        try:
            took = moonshift_copy(my, target, home, "my-pg", batch_size=20_000)
            print(f"MariaDB -> PostgreSQL, {n:,} rows: {took:.2f} s, {n / took:,.0f} rows/s")
        finally:
            drop(f"msb_x_{tag}")
            conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
            conn.cursor().execute(f"DROP DATABASE {my.rsplit('/', 1)[1]}")
            conn.close()
        ours, reference = sqlite_to_sqlite(n, home, args.repeat)
        print_pair("SQLite -> SQLite", n, ours, reference, "ATTACH + INSERT")


if __name__ == "__main__":
    main()
