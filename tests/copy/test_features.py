"""Target preparation, tables without a key, foreign keys after the load, the checkpoint
fence, spec errors, and the copy commands as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.copy.bookkeeping import Bookkeeping, CheckpointMoved, RangeState
from moonshift.domain.lifecycle import State
from tests.copy.conftest import ENGINES, database_url
from tests.copy.helpers import (
    apply,
    connector,
    copy_spec,
    count,
    create,
    execute,
    insert,
    read,
    run_copy,
)
from tests.helpers import moonshift


@pytest.mark.parametrize("engine", ENGINES)
def test_the_checkpoint_moves_only_from_where_the_batch_started(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str
) -> None:
    target = connector(database_url(request, engine, tmp_path, "source"))
    book = Bookkeeping(target, "_moonshift_checkpoints", "m", 1)
    conn = target.connect()
    try:
        book.ensure(conn)
        target.begin(conn)
        book.insert(conn, [RangeState("t", 0, None, None, None, 0, False)])
        conn.commit()
        target.begin(conn)
        book.advance(conn, "t", 0, None, "[10]", 10, False)
        conn.commit()
        target.begin(conn)
        with pytest.raises(CheckpointMoved):  # a stale worker still thinks it is at the start
            book.advance(conn, "t", 0, None, "[10]", 10, False)
        conn.rollback()
        target.begin(conn)
        book.advance(conn, "t", 0, "[10]", "[20]", 10, True)
        conn.commit()
        state = book.load(conn)[("t", 0)]
        assert (state.last_key, state.rows_done, state.done) == ("[20]", 20, True)
    finally:
        conn.close()


def test_a_table_without_a_key_is_copied_whole_or_refused(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    create(source, "CREATE TABLE log (at TEXT, line TEXT)")
    insert(source, "log", ["at", "line"], [(str(i), f"line {i}") for i in range(50)])
    apply(copy_app, copy_spec(source, target, batch_size=7))
    assert run_copy(copy_app).state is State.COMPLETED
    assert run_copy(copy_app).state is State.COMPLETED  # again: emptied first, no duplicates
    assert count(target, "log") == 50
    apply(copy_app, copy_spec(source, target, keyless_max_rows=10))
    run = run_copy(copy_app)
    assert run.state is State.FAILED
    assert (
        "log: has no primary or unique key and 50 rows, more than copy.keyless_max_rows (10)"
        in (run.reason or "")
    )
    apply(
        copy_app,
        copy_spec(
            source,
            target,
            keyless_max_rows=10,
            tables=[{"source": "log", "key": ["at"]}],
            target_prep="truncate",
        ),
    )
    assert run_copy(copy_app).state is State.COMPLETED
    assert count(target, "log") == 50


@pytest.mark.postgres
def test_created_tables_get_their_foreign_keys_after_the_load_cycles_too(
    tmp_path: Path, pg_database: str, copy_app: Moonshift
) -> None:
    source = f"sqlite:///{tmp_path / 's.db'}"
    conn = connector(source).connect()
    execute(
        conn,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id))",
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id))",
        "INSERT INTO a VALUES (1, 2)",
        "INSERT INTO b VALUES (2, 1)",
    )
    conn.close()
    apply(copy_app, copy_spec(source, pg_database))
    assert run_copy(copy_app).state is State.COMPLETED
    pg = connector(pg_database).connect()
    fks = pg.execute(
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' ORDER BY 1"
    ).fetchall()
    pg.close()
    assert fks == [("a",), ("b",)]


@pytest.mark.parametrize("prep", ["truncate", "drop_create"])
def test_target_prep_empties_or_recreates_the_target(
    tmp_path: Path, copy_app: Moonshift, prep: str
) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    create(source, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    insert(source, "t", ["id", "v"], [(i, "new") for i in range(1, 11)])
    create(target, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, extra TEXT)")
    insert(target, "t", ["id", "v", "extra"], [(99, "old", "x")])
    apply(copy_app, copy_spec(source, target, target_prep=prep))
    assert run_copy(copy_app).state is State.COMPLETED
    assert read(target, "t", ["id", "v"]) == [[str(i), "new"] for i in range(1, 11)]
    columns = {c.name for c in connector(target).read_schema().tables["t"].columns}
    assert ("extra" in columns) is (prep == "truncate")


def test_copy_spec_errors_name_the_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: c\nkind: copy\nsource: {url: 'sqlite:///a.db'}\ntarget: {url: 'sqlite:///b.db'}\n"
        "copy:\n  batch_size: 0\n  mode: incremental\n"
    )
    result = moonshift(tmp_path, "validate", "bad.yaml")
    assert result.returncode == 2
    assert "bad.yaml:6: copy.batch_size: " in result.stderr
    (tmp_path / "bad.yaml").write_text(
        "id: c\nkind: copy\nsource: {url: 'sqlite:///a.db'}\ntarget: {url: 'sqlite:///b.db'}\n"
        "copy:\n  mode: incremental\n  tables: [{source: 'x;drop'}]\n"
    )
    result = moonshift(tmp_path, "validate", "bad.yaml")
    assert result.returncode == 2
    assert (
        'copy.tables[0].source: must be a table or column name (letters, digits, "_", "$"), got "x;drop"'
        in result.stderr
    )
    (tmp_path / "bad.yaml").write_text(
        "id: c\nkind: copy\nsource: {url: 'sqlite:///a.db'}\ntarget: {url: 'sqlite:///b.db'}\n"
        "copy:\n  mode: incremental\n"
    )
    result = moonshift(tmp_path, "validate", "bad.yaml")
    assert result.returncode == 2
    assert "copy.cursor: is required when mode is incremental" in result.stderr


def test_the_copy_commands_as_a_user_types_them(tmp_path: Path) -> None:
    source = tmp_path / "s.db"
    create(
        f"sqlite:///{source}", "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL)"
    )
    insert(f"sqlite:///{source}", "items", ["id", "qty"], [(i, i) for i in range(1, 101)])
    create(
        f"sqlite:///{tmp_path / 't.db'}",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty % 10 <> 0))",
    )
    (tmp_path / "m.yaml").write_text(
        "id: items\nkind: copy\nsource: {url: 'sqlite:///s.db'}\ntarget: {url: 'sqlite:///t.db'}\n"
        "copy: {batch_size: 25}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    plan = moonshift(tmp_path, "plan", "items", "--json")
    assert json.loads(plan.stdout)["tables"][0]["rows"] == 100
    ran = moonshift(tmp_path, "run-now", "items", "--wait")
    assert ran.returncode == 0, ran.stderr
    queued = json.loads(moonshift(tmp_path, "errors", "items", "--json").stdout)
    assert sorted(int(e["row_values"]["id"]) for e in queued) == list(range(10, 101, 10))
    verify = moonshift(tmp_path, "verify", "items")
    assert verify.returncode == 1 and "DIFFERS" in verify.stdout
    skipped = moonshift(
        tmp_path, "errors", "resolve", str(queued[0]["id"]), "--skip", "--reason", "not needed"
    )
    assert skipped.returncode == 0 and "skipped" in skipped.stdout
    retried = moonshift(tmp_path, "errors", "retry", "--all", "items")
    assert retried.returncode == 1 and retried.stdout.count("still open") == 9
    assert moonshift(tmp_path, "status", "items").returncode == 0
    assert "bottleneck" in moonshift(tmp_path, "perf", "items").stdout
    rolled = moonshift(tmp_path, "rollback", "items", "--strategy", "truncate", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert "items: 90 -> 0 rows" in rolled.stdout
    assert (
        "rollback 1 (truncate) completed"
        in moonshift(tmp_path, "rollback", "status", "items").stdout
    )
    nothing = moonshift(tmp_path, "pause", "items")
    assert nothing.returncode == 1 and '"items" has no running run' in nothing.stderr
    bad = moonshift(tmp_path, "config", "items", "--set", "speed=9")
    assert bad.returncode == 2 and "--set speed: not a live setting" in bad.stderr
