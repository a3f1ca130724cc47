"""Row-level validation of an identical 1,000,000-row table, PostgreSQL -> MariaDB, beside
a full scan of both sides measured in the same run.

The source table is made in PostgreSQL and the same rows in MariaDB (the target, as a
copy would leave them); ``moonshift validation run`` (row-level perspective) must confirm
them equal, the goal being at most 10 s. The reference is a full scan: every row of both
tables fetched by the drivers moonshift uses (what comparing row by row in moonshift costs
before a single value is compared). Then 3 rows are changed in the target, in three key
ranges, and the run that finds exactly them is timed too.

    .venv/bin/python bench/validation.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pymysql

from moonshift.app import Moonshift, Settings
from moonshift.domain.spec import MigrationSpec

PG = "postgresql://postgres@127.0.0.1:5432"
MARIADB = {"host": "127.0.0.1", "user": "root", "password": ""}
PG_DDL = """CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2),
note VARCHAR(40), at TIMESTAMP(6))"""
PG_FILL = """INSERT INTO big SELECT g, g % 97, (g % 100000) / 4.0, md5(g::text),
TIMESTAMP '2026-01-01' + g * INTERVAL '1 second' FROM generate_series(1, {n}) g"""
MY_DDL = """CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount DECIMAL(12,2),
note VARCHAR(40), at DATETIME(6)) DEFAULT CHARSET=utf8mb4"""
MY_FILL = """INSERT INTO big SELECT seq, seq % 97, (seq % 100000) / 4, MD5(CAST(seq AS CHAR)),
TIMESTAMP('2026-01-01') + INTERVAL seq SECOND FROM seq_1_to_{n}"""


def make_source(name: str, rows: int) -> str:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(f"{PG}/{name}") as conn:
        conn.execute(PG_DDL)
        conn.execute(PG_FILL.format(n=rows))
        conn.execute("ANALYZE big")
    return f"{PG}/{name}"


def make_target(name: str, rows: int) -> str:
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"USE {name}")
        cur.execute(MY_DDL)
        cur.execute(MY_FILL.format(n=rows))
        cur.execute("ANALYZE TABLE big")
    conn.close()
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}"


def drop(pg_name: str, my_name: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {my_name}")
    conn.close()


def full_scan(pg_name: str, my_name: str) -> float:
    """Every row of both sides fetched by the drivers, one side after the other."""
    started = time.perf_counter()
    with psycopg.connect(f"{PG}/{pg_name}") as conn, conn.cursor(name="scan") as cur:
        cur.execute("SELECT id, grp, amount, note, at FROM big")
        while cur.fetchmany(10_000):
            pass
    conn = pymysql.connect(**MARIADB, database=my_name, cursorclass=pymysql.cursors.SSCursor)
    with conn.cursor() as cur:
        cur.execute("SELECT id, grp, amount, note, at FROM big")
        while cur.fetchmany(10_000):
            pass
    conn.close()
    return time.perf_counter() - started


def validate(app: Moonshift) -> tuple[float, bool, list[str]]:
    started = time.perf_counter()
    report = app.validation.run("bench", actor="bench")
    took = time.perf_counter() - started
    page = app.validation.divergences("bench", limit=100)
    return took, report.passed, sorted(d.what for d in page.items)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    pg_name, my_name = f"msbv_src_{tag}", f"msbv_dst_{tag}"
    try:
        made = time.perf_counter()
        source, target = make_source(pg_name, args.rows), make_target(my_name, args.rows)
        print(f"{args.rows:,} rows made on both sides in {time.perf_counter() - made:.1f} s")
        with tempfile.TemporaryDirectory() as home:
            run(Path(home), source, target, pg_name, my_name, args)
    finally:
        drop(pg_name, my_name)


def run(
    home: Path, source: str, target: str, pg_name: str, my_name: str, args: argparse.Namespace
) -> None:
    app = Moonshift(Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home), environ={})
    spec = {
        "id": "bench",
        "kind": "copy",
        "source": {"url": source},
        "target": {"url": target},
        "copy": {"tables": ["big"]},
        "validation": {"perspectives": ["row_level"]},
    }
    app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
    scans, ours = [], []
    for _ in range(args.repeat):
        scans.append(full_scan(pg_name, my_name))
        took, passed, found = validate(app)
        assert passed, found
        ours.append(took)
    conn = pymysql.connect(**MARIADB, database=my_name, autocommit=True)
    with conn.cursor() as cur:
        for key in (17, args.rows // 2, args.rows - 3):
            cur.execute(f"UPDATE big SET note = 'changed' WHERE id = {key}")
    conn.close()
    changed, passed, found = validate(app)
    app.close()
    scan_s, ours_s = min(scans), min(ours)
    print(
        f"PostgreSQL -> MariaDB, {args.rows:,} identical rows, best of {args.repeat} "
        f"(full scan {', '.join(f'{t:.2f}' for t in scans)}; "
        f"validation {', '.join(f'{t:.2f}' for t in ours)})"
    )
    print(f"  full scan of both sides : {scan_s:6.2f} s")
    print(
        f"  row-level validation    : {ours_s:6.2f} s  (goal: at most 10 s; {'met' if ours_s <= 10 else 'NOT met'})"
    )
    print(f"  ratio (full scan time / validation time): {scan_s / ours_s:.2f}")
    print(f"  3 rows changed in 3 key ranges: found in {changed:.2f} s, passed={passed}:")
    for what in found:
        print(f"    {what}")


if __name__ == "__main__":
    main()
