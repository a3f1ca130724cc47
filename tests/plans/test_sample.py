"""A plan's sample: read and written as the copy does it, at most a share of a table's rows
(above a floor), and a quarter of that profiled; nothing of it stays in the target."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from moonshift.app import Moonshift
from moonshift.copy import estimate

ROWS = 30_000  # past MIN_SAMPLE_ROWS, whose floor then bounds the sample


def planned(app: Moonshift, source: str, target: str) -> tuple[dict, dict]:
    """Per table: its estimate, and its profile."""
    spec = f'id: s\nkind: copy\nsource: {{url: "{source}"}}\ntarget: {{url: "{target}"}}\n'
    app.migrations.apply_text(spec, actor="user:alice")
    plan = app.plans.plan("s", actor="user:alice")
    assert plan.estimate is not None and plan.profile is not None
    return {t["table"]: t for t in plan.estimate["tables"]}, plan.profile


@pytest.mark.postgres
def test_a_streamed_table_is_sampled_streamed_up_to_its_share(
    copy_app: Moonshift, pg_database: str, pg_database_2: str
) -> None:
    with psycopg.connect(pg_database) as db:
        db.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, at DATE)")
        db.execute(
            "INSERT INTO items SELECT g, 'item ' || g, date '2026-01-01' + g % 300 "
            f"FROM generate_series(1, {ROWS}) g"
        )
    tables, profiles = planned(copy_app, pg_database, pg_database_2)
    table, profile = tables["items"], profiles["items"]
    assert table["rows"] == ROWS and table.get("error") is None, table
    assert table["sample_rows"] == estimate.MIN_SAMPLE_ROWS
    assert table["seconds"] > 0
    # one COPY reads and writes: one rate for both
    assert table["read_rows_per_second"] == table["write_rows_per_second"]
    assert profile["sample_rows"] == estimate.MIN_SAMPLE_ROWS // 4
    assert profile["columns"]["name"]["min"] == "item 1"
    with psycopg.connect(pg_database_2) as db:
        left = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert left == []


def test_a_small_table_is_sampled_whole_and_a_larger_one_to_the_floor(
    copy_app: Moonshift, tmp_path: Path
) -> None:
    source = tmp_path / "source.db"
    with sqlite3.connect(source) as db:
        for name, rows in (("items", ROWS), ("few", 5_000)):
            db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            db.executemany(f"INSERT INTO {name} VALUES (?, ?)", [(i, f"n{i}") for i in range(rows)])
    tables, profiles = planned(
        copy_app, f"sqlite:///{source}", f"sqlite:///{tmp_path / 'target.db'}"
    )
    assert tables["items"]["sample_rows"] == estimate.MIN_SAMPLE_ROWS < ROWS
    assert profiles["items"]["sample_rows"] == estimate.MIN_SAMPLE_ROWS // 4
    assert tables["few"]["sample_rows"] == 5_000
    assert profiles["few"]["sample_rows"] == estimate.SIZED_ROWS  # a quarter is fewer


@pytest.mark.mariadb
@pytest.mark.postgres
def test_a_csv_table_is_sampled_by_its_key_as_the_copy_reads_it(
    copy_app: Moonshift, mariadb_database: str, pg_database: str
) -> None:
    """MariaDB to PostgreSQL: batches of CSV, a single key's by key values (the batch's last
    key, then the rows up to it), another key's by offset; every table sampled to its share
    or whole, and nothing left in the target."""
    from tests.copy.helpers import connector, execute

    conn = connector(mariadb_database).connect()
    execute(
        conn,
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
        f"INSERT INTO items SELECT seq * 3, CONCAT('item ', seq) FROM seq_1_to_{ROWS}",
        "CREATE TABLE few (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO few SELECT seq, CONCAT('few ', seq) FROM seq_1_to_4999",
        "CREATE TABLE pairs (a INT, b INT, PRIMARY KEY (a, b))",
        "INSERT INTO pairs SELECT seq % 7, seq FROM seq_1_to_4999",
    )
    conn.close()
    tables, profiles = planned(copy_app, mariadb_database, pg_database)
    assert {t: tables[t].get("error") for t in tables} == dict.fromkeys(tables)
    assert tables["items"]["sample_rows"] == estimate.MIN_SAMPLE_ROWS
    assert profiles["items"]["columns"]["name"]["min"] == "item 1"
    assert tables["few"]["sample_rows"] == 4999  # whole: its last batch is short
    assert tables["pairs"]["sample_rows"] == 4999
    with psycopg.connect(pg_database) as db:
        left = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert left == []
