"""Copy throughput per ordered pair of engines, against what a user gets elsewhere, measured
in the same run.

One table: a row per pair, with moonshift's rows per second, the reference's (the raw pipe
for that pair; pgloader for MariaDB to PostgreSQL and PostgreSQL to PostgreSQL when it is
installed), the ratio, and moonshift's peak memory (the max RSS of the process that ran the
copy). Every side copies the same 6-column table with a primary key into an empty database;
moonshift runs in a process of its own, start-up, planning and the keys built after the
rows included, as a user would run it: from an installed package, whose modules are
compiled to bytecode once (the bench compiles them first, where the environment keeps Python
from writing bytecode, ``PYTHONDONTWRITEBYTECODE``).

    .venv/bin/python bench/copy_throughput.py [--rows 5000000] [--cross-rows 1000000]
        [--sqlite-rows N] [--repeat 1] [--pairs pg-pg,my-pg,pg-my,sq-sq]

SQLite's reference is the ``sqlite3`` shell (``apt-get install sqlite3``; the Makefile's
bench target installs it), in a process of its own as moonshift is; without it, the same
statements in this process.

Before each command that writes into PostgreSQL, the last command's target is dropped and
PostgreSQL checkpoints, so that no command pays for what the one before it left behind.

Each pair is a function returning ``Pair``; add a pair by adding one to ``PAIRS``.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432"
MY = "mysql://root@127.0.0.1:3306"
PG_DDL = (
    "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2), "
    "note TEXT, created TIMESTAMP(6), flag BOOLEAN)"
)
PG_FILL = (
    "INSERT INTO big SELECT g, g % 97, (g % 100000) / 7.0, md5(g::text), "
    "timestamp '2020-01-01' + g * interval '1.000001 second', g % 3 = 0 "
    "FROM generate_series(1, {n}) g"
)
MY_DDL = (
    "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT NOT NULL, amount DECIMAL(12,2), "
    "note TEXT, created DATETIME(6), flag TINYINT(1))"
)
MY_FILL = (
    "INSERT INTO big SELECT seq, seq % 97, (seq % 100000) / 7, md5(seq), "
    "TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq * 1000001 MICROSECOND, seq % 3 = 0 "
    "FROM seq_1_to_{n}"
)
SQ_DDL = (
    "CREATE TABLE big (id INTEGER PRIMARY KEY, grp INT NOT NULL, amount NUMERIC(12,2), "
    "note TEXT, created TIMESTAMP, flag BOOLEAN)"
)
SQ_FILL = (
    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) "
    "INSERT INTO big SELECT n, n % 97, round((n % 100000) / 7.0, 2), hex(randomblob(16)), "
    "datetime(1577836800 + n, 'unixepoch'), n % 3 = 0 FROM g"
)
SQ_REFERENCE = (
    "PRAGMA journal_mode=WAL; ATTACH DATABASE '{source}' AS src; BEGIN IMMEDIATE; "
    "INSERT INTO main.big SELECT * FROM src.big; COMMIT;"
)


@dataclass
class Pair:
    name: str
    rows: int
    ours: list[float] = field(default_factory=list)  # seconds, one per repeat
    peak_mb: float = 0.0
    references: dict[str, list[float]] = field(default_factory=dict)  # name -> seconds
    notes: list[str] = field(default_factory=list)

    def rate(self, seconds: list[float]) -> float:
        return self.rows / min(seconds)


# -- databases -------------------------------------------------------------------------------


def pg_db(name: str, *, fill: int = 0, ddl: bool = False) -> str:
    import psycopg  # here, not above: moonshift's process imports only what moonshift does

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    if fill or ddl:
        with psycopg.connect(f"{PG}/{name}") as conn:
            conn.execute(PG_DDL)
            if fill:
                conn.execute(PG_FILL.format(n=fill))
        if fill:
            with psycopg.connect(f"{PG}/{name}", autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE big")
    return f"{PG}/{name}"


def fresh_pg(name: str, tag: str, *, ddl: bool = False) -> str:
    """A new target database, once the last command's targets are gone and PostgreSQL has
    written out what they left (a checkpoint): no command pays for the one before it, in
    a checkpoint or an autovacuum of the table it loaded."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        for side in ("ref", "ours"):
            admin.execute(f"DROP DATABASE IF EXISTS msb_{side}_{tag} WITH (FORCE)")
        admin.execute("CHECKPOINT")
    return pg_db(name, ddl=ddl)


def my_db(name: str, *, fill: int = 0, ddl: bool = False) -> str:
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"USE {name}")
        if fill or ddl:
            cur.execute(MY_DDL)
        if fill:
            cur.execute(MY_FILL.format(n=fill))
            cur.execute("ANALYZE TABLE big")
    conn.close()
    return f"{MY}/{name}"


def sq_db(path: Path, *, fill: int = 0, ddl: bool = False) -> str:
    path.unlink(missing_ok=True)
    if fill or ddl:
        with sqlite3.connect(path) as conn:
            conn.execute(SQ_DDL)
            if fill:
                conn.execute(SQ_FILL.format(n=fill))
    return f"sqlite:///{path}"


def drop_all(tag: str) -> None:
    import psycopg
    import pymysql

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        names = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"msb_%_{tag}",)
        ).fetchall()
        for (name,) in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (f"msb\\_%\\_{tag}",))
        for (name,) in cur.fetchall():
            cur.execute(f"DROP DATABASE {name}")
    conn.close()


# -- moonshift, in a process of its own ------------------------------------------------------


def child(source: str, target: str, home: str, copy: dict[str, object]) -> None:
    """In the child process: apply the copy and run it to the end."""
    from moonshift.app import Moonshift, Settings
    from moonshift.domain.lifecycle import State
    from moonshift.domain.spec import MigrationSpec

    app = Moonshift(Settings(state_url=f"sqlite:///{home}/state.db", home=Path(home)))
    spec = {
        "id": "bench",
        "kind": "copy",
        "source": {"url": source},
        "target": {"url": target},
        "copy": copy,
    }
    app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
    run = app.runs.execute(app.runs.run_now("bench", actor="bench").id)
    app.close()
    if run.state is not State.COMPLETED:
        sys.exit(f"the copy did not complete: {run.state} {run.reason}")


def moonshift(source: str, target: str, **copy: object) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a copy run by moonshift in a new process."""
    with tempfile.TemporaryDirectory() as home:
        given = json.dumps([source, target, home, copy])
        args = [sys.executable, __file__, "--child", given]
        started = time.perf_counter()
        proc = subprocess.Popen(args)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"moonshift's copy failed ({proc.returncode})")
    return took, usage.ru_maxrss / 1024


# -- references -------------------------------------------------------------------------------


def timed(*commands: list[str] | str, env: dict[str, str] | None = None) -> float:
    """Seconds for a shell pipeline (a str) or commands in turn."""
    started = time.perf_counter()
    for command in commands:
        shell = isinstance(command, str)
        subprocess.run(command, shell=shell, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def pgloader(pair: Pair, source: str, target: str) -> None:
    """pgloader's seconds, kept only when it copied every row (it may exit 0 having copied
    nothing: 3.6 does not read PostgreSQL 15's catalog)."""
    with tempfile.TemporaryDirectory() as tmp:
        took = timed(["pgloader", "--no-ssl-cert-verification", "--root-dir", tmp, source, target])
    import psycopg

    with psycopg.connect(target) as conn:
        found = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'big'"
        ).fetchone()
        counted = (
            conn.execute(f'SELECT count(*) FROM "{found[0]}".big').fetchone() if found else None
        )
        copied = counted[0] if counted else 0
    if copied == pair.rows:
        pair.references.setdefault("pgloader", []).append(took)
    else:
        pair.notes.append(f"pgloader exited after {took:.2f} s having copied {copied:,} rows")


def has(program: str) -> bool:
    return shutil.which(program) is not None


# -- the pairs --------------------------------------------------------------------------------


def into_pg(
    pair: Pair, source: str, reference: tuple[str, Callable[[str], str]], repeat: int, tag: str
) -> Pair:
    """A pair whose target is PostgreSQL, ``repeat`` times: the raw pipe (its name, and its
    shell command for a target), pgloader when installed, then moonshift."""
    label, pipe = reference
    for _ in range(repeat):
        target = fresh_pg(f"msb_ref_{tag}", tag, ddl=True)
        pair.references.setdefault(label, []).append(timed(pipe(target)))
        if has("pgloader"):
            pgloader(pair, source, fresh_pg(f"msb_ref_{tag}", tag))
        took, peak = moonshift(source, fresh_pg(f"msb_ours_{tag}", tag))
        pair.ours.append(took)
        pair.peak_mb = max(pair.peak_mb, peak)
    return pair


def pg_to_pg(rows: int, repeat: int, tag: str, tmp: Path) -> Pair:
    source = pg_db(f"msb_src_{tag}", fill=rows)

    def pipe(target: str) -> str:
        return (
            f"psql -qX {source} -c 'COPY big TO STDOUT (FORMAT binary)' | "
            f"psql -qX {target} -c 'COPY big FROM STDIN (FORMAT binary)'"
        )

    pair = Pair("PostgreSQL -> PostgreSQL", rows)
    return into_pg(pair, source, ("psql binary pipe", pipe), repeat, tag)


def mariadb_to_pg(rows: int, repeat: int, tag: str, tmp: Path) -> Pair:
    source = my_db(f"msb_src_{tag}", fill=rows)
    database = source.rsplit("/", 1)[1]

    def pipe(target: str) -> str:
        return (
            f"mariadb -h127.0.0.1 -uroot --batch --quick -N {database} "
            "-e 'SELECT id, grp, amount, note, created, flag = 1 FROM big' | "
            f"psql -qX {target} -c 'COPY big FROM STDIN'"
        )

    pair = Pair("MariaDB -> PostgreSQL", rows)
    return into_pg(pair, source, ("mariadb --batch piped to psql COPY", pipe), repeat, tag)


def pg_to_mariadb(rows: int, repeat: int, tag: str, tmp: Path) -> Pair:
    pair = Pair("PostgreSQL -> MariaDB", rows)
    source = pg_db(f"msb_src_{tag}", fill=rows)
    file = tmp / "big.tsv"
    for _ in range(repeat):
        target = my_db(f"msb_ref_{tag}", ddl=True).rsplit("/", 1)[1]
        dump = (
            f"psql -qX {source} -c 'COPY (SELECT id, grp, amount, note, created, flag::int "
            f"FROM big) TO STDOUT' > {file}"
        )
        load = (
            f"mariadb -h127.0.0.1 -uroot --local-infile=1 {target} "
            f"-e \"LOAD DATA LOCAL INFILE '{file}' INTO TABLE big\""
        )
        pair.references.setdefault("COPY TO file + LOAD DATA", []).append(timed(dump, load))
        took, peak = moonshift(source, my_db(f"msb_ours_{tag}"))
        pair.ours.append(took)
        pair.peak_mb = max(pair.peak_mb, peak)
    return pair


def sqlite_to_sqlite(rows: int, repeat: int, tag: str, tmp: Path) -> Pair:
    pair = Pair("SQLite -> SQLite", rows)
    source = tmp / "source.db"
    sq_db(source, fill=rows)
    for _ in range(repeat):
        target = tmp / "ref.db"
        sq_db(target, ddl=True)
        if has("sqlite3"):  # as a user runs it: the shell, in a process of its own
            script = SQ_REFERENCE.replace("{source}", str(source).replace("'", "''"))
            took = timed(["sqlite3", str(target), script])
            label = "sqlite3 shell: ATTACH + INSERT ... SELECT"
        else:
            took = attach_in_process(source, target)
            label = "ATTACH + INSERT ... SELECT in this process"
        pair.references.setdefault(label, []).append(took)
        took, peak = moonshift(f"sqlite:///{source}", sq_db(tmp / "ours.db"), batch_size=100_000)
        pair.ours.append(took)
        pair.peak_mb = max(pair.peak_mb, peak)
    return pair


def attach_in_process(source: Path, target: Path) -> float:
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    started = time.perf_counter()
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO main.big SELECT * FROM src.big")
    conn.execute("COMMIT")
    took = time.perf_counter() - started
    conn.close()
    return took


Runner = Callable[[int, int, str, Path], Pair]
PAIRS: dict[str, tuple[Runner, str]] = {  # key -> (function, the option giving its rows)
    "pg-pg": (pg_to_pg, "rows"),
    "my-pg": (mariadb_to_pg, "cross_rows"),
    "pg-my": (pg_to_mariadb, "cross_rows"),
    "sq-sq": (sqlite_to_sqlite, "sqlite_rows"),
}


def report(pairs: list[Pair]) -> None:
    print()
    print("| pair | rows | moonshift rows/s | reference | reference rows/s | ratio | peak MiB |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for p in pairs:
        ours = p.rate(p.ours)
        for name, seconds in p.references.items():
            ref = p.rate(seconds)
            print(
                f"| {p.name} | {p.rows:,} | {ours:,.0f} | {name} | {ref:,.0f} | "
                f"{ours / ref:.2f} | {p.peak_mb:,.0f} |"
            )
    print()
    for p in pairs:
        runs = "; ".join(
            f"{name} " + ", ".join(f"{t:.2f}" for t in seconds)
            for name, seconds in [("moonshift", p.ours), *p.references.items()]
        )
        print(f"{p.name} seconds per run: {runs}")
        for note in p.notes:
            print(f"{p.name}: {note}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load} ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000, help="PostgreSQL -> PostgreSQL")
    parser.add_argument("--cross-rows", type=int, default=1_000_000, help="the other pairs")
    parser.add_argument("--sqlite-rows", type=int, help="SQLite -> SQLite (default: --cross-rows)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    parser.add_argument("--pairs", default=",".join(PAIRS), help="which pairs, by key")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*json.loads(args.child))
        return
    package = importlib.util.find_spec("moonshift")
    assert package is not None and package.submodule_search_locations
    for folder in package.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)
    tag = uuid.uuid4().hex[:6]
    done = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for key in args.pairs.split(","):
                run, option = PAIRS[key]
                rows = getattr(args, option) or args.cross_rows
                done.append(run(rows, args.repeat, tag, Path(tmp)))
                drop_all(tag)
    finally:
        drop_all(tag)
    report(done)


if __name__ == "__main__":
    main()
