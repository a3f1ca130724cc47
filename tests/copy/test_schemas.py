"""Real schemas arrive whole: PostgreSQL's enums, domains, arrays, ranges, partitions and
generated columns (the same DDL into PostgreSQL, the documented mappings elsewhere);
MariaDB's ENUM, SET, YEAR, unsigned and AUTO_INCREMENT into PostgreSQL; SQLite's declared
types by affinity; decimals that compare as numbers in SQLite; column options; foreign keys
whose types must agree; and what plan says about all of it."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, run_copy, scalar
from tests.copy.readers import run_sql, texts
from tests.helpers import moonshift

SHOWCASE = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE DOMAIN posint AS integer NOT NULL CHECK (VALUE > 0)",
    "CREATE DOMAIN email AS text CHECK (VALUE ~ '@')",
    """CREATE TABLE film (id serial PRIMARY KEY, title varchar(100) NOT NULL UNIQUE,
    m mood DEFAULT 'ok', tags text[], during tsrange, len posint, price numeric(10,2)
    CHECK (price >= 0), qty integer, total numeric GENERATED ALWAYS AS (price * qty) STORED)""",
    "CREATE INDEX film_qty ON film (qty) WHERE qty > 0",
    "CREATE INDEX film_lower ON film (lower(title))",
    """CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL,
    film_id integer REFERENCES film (id) ON DELETE CASCADE, v text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at)""",
    "CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE ev_other PARTITION OF ev DEFAULT",
    """INSERT INTO film (title, m, tags, during, len, price, qty) VALUES
    ('Alien', 'happy', '{space,"sci fi"}', '[2020-01-01 10:00,2020-01-02)', 3, 12.50, 2),
    ('Brazil', NULL, NULL, NULL, 1, NULL, NULL)""",
    """INSERT INTO ev (at, film_id, v) VALUES ('2025-03-01', 1, 'in 2025'),
    ('2027-01-01', 2, 'in the default partition'), ('2025-12-31', NULL, 'last of 2025')""",
]


def _ddl(url: str) -> str:
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to compare catalogs"
    found = subprocess.run(
        [pg_dump, "--schema-only", "--no-owner", "-T", "_moonshift_checkpoints", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(line for line in found.splitlines() if "restrict" not in line)


@pytest.mark.postgres
def test_a_postgres_schema_copies_to_postgres_with_the_same_ddl_and_each_row_once(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    run_sql(pg_database, *SHOWCASE)
    apply(copy_app, copy_spec(pg_database, pg_database_2, tables="*", batch_size=1))
    plan = copy_app.copies.plan("c")
    assert [t.source for t in plan.tables] == ["film", "ev"]  # partitions come with ev
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    assert _ddl(pg_database_2) == _ddl(pg_database)
    for table in ("film", "ev", "ev_2025", "ev_other"):  # each row once, where it was
        assert texts(pg_database_2, table) == texts(pg_database, table), table
    assert all(c.matches for c in copy_app.copies.verify("c"))
    with psycopg.connect(pg_database_2, autocommit=True) as conn:  # numbering goes on
        film = conn.execute("INSERT INTO film (title, len) VALUES ('new', 1) RETURNING id")
        assert film.fetchone() == (3,)
        conn.execute("INSERT INTO ev (at) VALUES ('2025-06-01')")


@pytest.mark.postgres
@pytest.mark.mariadb
def test_the_same_schema_copies_to_mariadb_and_sqlite_by_the_documented_mappings(
    pg_database: str, mariadb_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    run_sql(pg_database, *SHOWCASE)
    sqlite = f"sqlite:///{tmp_path / 't.db'}"
    for target in (mariadb_database, sqlite):
        apply(copy_app, copy_spec(pg_database, target, tables="*"))
        plan = copy_app.copies.plan("c")
        ev = next(t for t in plan.tables if t.source == "ev")
        assert ev.notes == ["partitioned in the source (RANGE (at)): one table here"]
        assert run_copy(copy_app).state is State.COMPLETED
        film = texts(target, "film")
        assert film["m"] == ["happy", None]
        assert [json.loads(t) if t else t for t in film["tags"]] == [["space", "sci fi"], None]
        assert film["during"] == ['["2020-01-01 10:00:00","2020-01-02 00:00:00")', None]
        assert film["total"][0] in ("25", "25.00", "25.000000000000000000000000000000")
        assert sorted(texts(target, "ev")["v"]) == sorted(  # one table, each row once
            ["in 2025", "in the default partition", "last of 2025"]
        )
        assert all(c.matches for c in copy_app.copies.verify("c"))
        run_sql(target, "INSERT INTO film (title, len) VALUES ('new', 1)")  # numbering goes on
        assert texts(target, "film")["id"] == ["1", "2", "3"]
    ddl = scalar(sqlite, "SELECT sql FROM sqlite_master WHERE name = 'film'")
    assert "CHECK (\"m\" IN ('sad', 'ok', 'happy'))" in ddl  # the enum's labels
    assert '("len" > 0)' in ddl  # the domain's check
    assert "GENERATED ALWAYS AS" in ddl  # a portable generated column stays generated


@pytest.mark.mariadb
@pytest.mark.postgres
def test_a_mariadb_schema_copies_to_postgres_and_the_next_insert_gets_a_key(
    mariadb_database: str, pg_database: str, copy_app: Moonshift
) -> None:
    run_sql(
        mariadb_database,
        """CREATE TABLE film (film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        title VARCHAR(128) NOT NULL, rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
        special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes'),
        release_year YEAR, length SMALLINT UNSIGNED, KEY idx_title (title(20)))""",
        """CREATE TABLE inventory (inventory_id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT
        PRIMARY KEY, film_id SMALLINT UNSIGNED NOT NULL, KEY idx_fk_film_id (film_id),
        CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id))""",
        """INSERT INTO film (title, rating, special_features, release_year, length) VALUES
        ('ACADEMY DINOSAUR', 'PG', 'Deleted Scenes,Behind the Scenes', 2006, 86),
        ('ACE GOLDFINGER', 'G', '', 2155, 65535)""",
        "INSERT INTO inventory (film_id) VALUES (1), (1), (2)",
    )
    apply(copy_app, copy_spec(mariadb_database, pg_database, tables="*"))
    run = run_copy(copy_app)
    assert run.state is State.COMPLETED, run.reason
    film = texts(pg_database, "film", "film_id")
    assert film["rating"] == ["PG", "G"]
    assert film["special_features"] == ['{"Deleted Scenes","Behind the Scenes"}', "{}"]
    assert film["release_year"] == ["2006", "2155"]
    assert film["length"] == ["86", "65535"]
    assert all(c.matches for c in copy_app.copies.verify("c"))
    with psycopg.connect(pg_database, autocommit=True) as conn:
        new = conn.execute("INSERT INTO film (title) VALUES ('NEW') RETURNING film_id, rating")
        assert new.fetchone() == (3, "G")
        conn.execute("INSERT INTO inventory (film_id) VALUES (3)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO inventory (film_id) VALUES (99)")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("INSERT INTO film (title, rating) VALUES ('X', 'XXX')")


def test_sqlite_declared_types_map_by_affinity_and_keys_number_on(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    run_sql(
        source,
        """CREATE TABLE artist (ArtistId INTEGER PRIMARY KEY AUTOINCREMENT,
        Name NVARCHAR(120) NOT NULL, Born DATETIME, Fee MONEY(8,2), Odd "FLOATING POINT")""",
        "INSERT INTO artist (Name, Born, Fee, Odd) VALUES ('AC/DC', '1973-11-01 00:00:00', 9.5, 3)",
    )
    apply(copy_app, copy_spec(source, target, tables="*"))
    plan = copy_app.copies.plan("c")
    assert not plan.errors
    assert run_copy(copy_app).state is State.COMPLETED
    run_sql(target, "INSERT INTO artist (Name) VALUES ('Accept')")
    assert texts(target, "artist", "ArtistId")["ArtistId"] == ["1", "2"]


@pytest.mark.postgres
def test_decimals_in_a_sqlite_target_compare_as_numbers_and_stay_exact_by_the_rule(
    pg_database: str, tmp_path: Path, copy_app: Moonshift
) -> None:
    run_sql(
        pg_database,
        "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2), big numeric(38,10))",
        "INSERT INTO orders VALUES (1, 9.90, 1.5), (2, 10.50, 12345678901234567890.0123456789)",
        "INSERT INTO orders VALUES (3, 100.00, NULL)",
    )
    target = f"sqlite:///{tmp_path / 't.db'}"
    apply(copy_app, copy_spec(pg_database, target))
    refused = run_copy(copy_app)
    assert refused.state is State.FAILED
    assert (
        "orders.big: lossy: 1 rows hold numbers with more than 15 significant digits, which "
        "SQLite keeps only as REAL; allow it with copy.allow_lossy: [orders.big], or give the "
        "column a type with cast: TYPE" in (refused.reason or "")
    )
    exact = {"overrides": {"orders": {"columns": {"big": {"cast": "DECIMAL_TEXT(38,10)"}}}}}
    apply(copy_app, copy_spec(pg_database, target, **exact))
    assert run_copy(copy_app).state is State.COMPLETED
    assert scalar(target, "SELECT MAX(total) FROM orders") == 100
    assert scalar(target, "SELECT COUNT(*) FROM orders WHERE total > 10") == 2
    assert scalar(target, "SELECT SUM(total) FROM orders") == pytest.approx(120.4)
    assert (
        scalar(target, "SELECT big FROM orders WHERE id = 2") == "12345678901234567890.0123456789"
    )
    assert all(c.matches for c in copy_app.copies.verify("c"))
    apply(copy_app, copy_spec(pg_database, target, target_prep="drop_create", allow_lossy=True))
    assert run_copy(copy_app).state is State.COMPLETED
    assert scalar(target, "SELECT typeof(big) FROM orders WHERE id = 2") == "real"
    assert all(c.matches for c in copy_app.copies.verify("c"))  # by the rule: 15 digits


def test_column_options_exclude_rename_cast_and_expr_without_listing_tables(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    run_sql(
        source,
        "CREATE TABLE film (id INTEGER PRIMARY KEY, title TEXT, secret TEXT, rating INT)",
        "CREATE TABLE actor (id INTEGER PRIMARY KEY, name TEXT)",
        "INSERT INTO film VALUES (1, 'Alien', 'x', 5), (2, 'Brazil', 'y', NULL)",
        "INSERT INTO actor VALUES (1, 'Sigourney')",
    )
    options = {
        "secret": {"exclude": True},
        "title": "name",
        "rating": {"cast": "TEXT"},
        "shout": {"expr": "upper(title) || '!'", "cast": "VARCHAR(40)"},
    }
    apply(copy_app, copy_spec(source, target, overrides={"film": {"columns": options}}))
    plan = copy_app.copies.plan("c")
    film = next(t for t in plan.tables if t.source == "film")
    assert [(c.source, c.target, c.target_type) for c in film.columns] == [
        ("id", "id", "INTEGER"),
        ("title", "name", "TEXT"),
        ("rating", "rating", "TEXT"),
        (None, "shout", "VARCHAR(40)"),
    ]
    assert run_copy(copy_app).state is State.COMPLETED
    assert texts(target, "film") == {
        "id": ["1", "2"],
        "name": ["Alien", "Brazil"],
        "rating": ["5", None],
        "shout": ["ALIEN!", "BRAZIL!"],
    }
    assert texts(target, "actor")["name"] == ["Sigourney"]
    for columns, error in (
        ({"nope": {"cast": "TEXT"}}, "film.nope: no such column in the source"),
        ({"id": {"exclude": True}}, "film.id: the key column must be copied"),
    ):
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        apply(copy_app, copy_spec(source, fresh, overrides={"film": {"columns": columns}}))
        assert [str(e) for e in copy_app.copies.plan("c").errors] == [error]


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_foreign_key_gets_one_type_on_both_ends_or_is_refused_before_the_copy(
    pg_database: str, mariadb_database: str, copy_app: Moonshift
) -> None:
    run_sql(
        pg_database,
        "CREATE TABLE parent (id integer PRIMARY KEY)",
        "CREATE TABLE child (id integer PRIMARY KEY, parent_id smallint REFERENCES parent)",
        "CREATE TABLE big (id bigint PRIMARY KEY)",
        "CREATE TABLE small (id integer PRIMARY KEY, big_id bigint)",
        "INSERT INTO parent VALUES (1)",
        "INSERT INTO child VALUES (1, 1)",
    )
    apply(copy_app, copy_spec(pg_database, mariadb_database, tables=["parent", "child"]))
    plan = copy_app.copies.plan("c")
    child = next(t for t in plan.tables if t.source == "child")
    assert child.columns[1].target_type == "INT"  # aligned with parent.id
    assert run_copy(copy_app).state is State.COMPLETED
    assert all(c.matches for c in copy_app.copies.verify("c"))
    run_sql(pg_database, "ALTER TABLE big ADD CONSTRAINT wide FOREIGN KEY (id) REFERENCES small")
    apply(copy_app, copy_spec(pg_database, mariadb_database, tables=["small", "big"]))
    assert [str(e) for e in copy_app.copies.plan("c").errors] == [
        "big.id: foreign key wide maps it to BIGINT but small.id to INT, which cannot hold "
        "every value; give both one type with cast: TYPE"
    ]


def test_plan_json_lists_every_columns_mapping_and_plain_plan_shows_it(tmp_path: Path) -> None:
    run_sql(
        f"sqlite:///{tmp_path / 's.db'}",
        "CREATE TABLE album (id INTEGER PRIMARY KEY, title NVARCHAR(160), price NUMERIC(10,2))",
        "CREATE INDEX album_title ON album (title)",
    )
    (tmp_path / "m.yaml").write_text(
        "id: albums\nkind: copy\nsource: {url: 'sqlite:///s.db'}\n"
        "target: {url: 'sqlite:///t.db'}\ncopy: {tables: '*'}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    shown = moonshift(tmp_path, "plan", "albums", "--json")
    assert shown.returncode == 0, shown.stderr
    album = json.loads(shown.stdout)["tables"][0]
    assert [
        (c["source"], c["source_type"], c["target_type"], c["conversion"], c["lossy"])
        for c in album["columns"]
    ] == [
        ("id", "INTEGER", "INTEGER", "as is", None),
        ("title", "NVARCHAR(160)", "NVARCHAR(160)", "as is", None),
        ("price", "NUMERIC(10,2)", "NUMERIC(10,2)", "as is", None),
    ]
    assert {"kind": "index", "name": "album_title", "when": "after the rows"} in album["objects"]
    table = moonshift(tmp_path, "plan", "albums")
    assert "NVARCHAR(160)" in table.stdout and "creates: table album; index album_title" in (
        table.stdout
    )


def test_an_unreachable_database_is_one_line_in_every_copy_command(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    (tmp_path / "m.yaml").write_text(
        f"id: away\nkind: copy\nsource: {{url: 'postgresql://postgres@127.0.0.1:{port}/x'}}\n"
        "target: {url: 'sqlite:///t.db'}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    for command in (
        "plan away",
        "verify away",
        "lag away",
        "errors retry --all away",
        "rollback away --strategy truncate --yes",
    ):
        found = moonshift(tmp_path, *command.split())
        assert found.returncode == 1, (command, found.stderr)
        assert found.stdout == "" and found.stderr.count("\n") == 1, (command, found.stderr)
        assert re.search(rf"error: source: cannot connect: .*{port}", found.stderr), found.stderr
    shown = moonshift(tmp_path, "plan", "away", "--json")
    assert shown.returncode == 1
    assert json.loads(shown.stdout)["problems"][0].startswith("source: cannot connect: ")


@pytest.mark.postgres
def test_a_type_moonshift_does_not_create_is_refused_at_plan_time(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    run_sql(
        pg_database,
        "CREATE TYPE floatrange AS RANGE (subtype = float8)",
        "CREATE TABLE spans (id integer PRIMARY KEY, span floatrange)",
    )
    apply(copy_app, copy_spec(pg_database, pg_database_2))
    assert copy_app.copies.plan("c").errors == [
        "floatrange: type floatrange does not exist in the target and moonshift does not "
        "create it: create it there (CREATE EXTENSION ...), or give the columns another type "
        "with cast: TYPE, or exclude them"
    ]
    run_sql(pg_database_2, "CREATE TYPE floatrange AS RANGE (subtype = float8)")
    assert copy_app.copies.plan("c").errors == []
