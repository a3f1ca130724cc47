"""Mapping suggestions: scored from names, types and values; in the plan; accepted into the
spec's mapping as a new spec version (history, export), which voids an approval of the
old plan; unknown or stale ids refused, changing nothing. Faces: CLI, REST, Python."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift, Settings
from moonshift.cli.core import BAD_INPUT
from moonshift.domain.lifecycle import State
from moonshift.domain.matching import ColumnFacts, Scored, assigned, match
from moonshift.domain.names import name_similarity, words
from moonshift.errors import NotFound
from tests.api.server import running
from tests.copy.helpers import connector, create, execute, insert, read, run_copy
from tests.helpers import moonshift

AUTHOR, BOB = "user:alice", "user:bob"


def test_names_fold_case_styles_abbreviations_and_plurals() -> None:
    assert words("custNm") == words("CUST_NM") == words("customer-name") == ("customer", "name")
    assert words("tbl_Orders") == ("order",)
    assert name_similarity("cstmr_addr", "customer_address") >= 0.85  # a consonant skeleton
    assert name_similarity("ord_dt", "OrderDate") == 1.0
    assert name_similarity("phone", "fax") == 0.0
    assert name_similarity("email", "email_address") > name_similarity("email", "mail_server")


def test_one_target_is_never_given_twice() -> None:
    table = [
        Scored("a", "x", 0.9, ()),
        Scored("b", "x", 0.85, ()),
        Scored("b", "y", 0.5, ()),
        Scored("c", "y", 0.2, ()),  # under the floor: no suggestion
    ]
    found = {m.chosen.source: m for m in assigned(table)}
    assert {s: m.chosen.target for s, m in found.items()} == {"a": "x", "b": "y"}
    assert [s.target for s in found["b"].ranked] == ["x", "y"]  # the taken one still ranks
    assert found["b"].review and not found["a"].review


def _facts(name: str, values: list[str], family: str = "text") -> ColumnFacts:
    profile = {
        "null_fraction": 0.0,
        "distinct_estimate": len(set(values)),
        "min": min(values),
        "max": max(values),
        "length": {"median": len(sorted(values)[len(values) // 2])},
        "top": [],
    }
    return ColumnFacts(name, family, family.upper(), profile, frozenset(values))


def test_a_decoy_with_a_like_name_loses_to_the_column_holding_the_values() -> None:
    names = [f"name {i}" for i in range(50)]
    source = _facts("cust_nm", names)
    decoy = _facts("customer_name_code", [f"C{i:05}" for i in range(50)])
    true = _facts("customer_full_name", names)
    [found] = match([source], [decoy, true])
    assert found.chosen.target == "customer_full_name"
    assert any("100% of sampled values in common" in r for r in found.chosen.reasons)
    # without values, names decide
    [blind] = match([ColumnFacts("cust_nm", "text")], [ColumnFacts("customer_name", "int")])
    assert blind.chosen.score < 0.8 and blind.review  # an int cannot be the names


def _renamed_columns(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "source.db") as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, cust_nm VARCHAR(40), "
            "emailAddr TEXT, qty INT)"
        )
        rows = [(i, f"name {i}", f"u{i}@example.org", i % 7) for i in range(1, 101)]
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", rows)
    with sqlite3.connect(tmp_path / "target.db") as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, customer_name TEXT, "
            "email_address TEXT, email_verified INTEGER, quantity BIGINT)"
        )
        rows2 = [(i, f"name {i}", f"u{i}@example.org", 1, i % 7) for i in range(1, 31)]
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", rows2)


def _spec(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {
        "id": "c",
        "kind": "copy",
        "source": {"url": f"sqlite:///{tmp_path / 'source.db'}"},
        "target": {"url": f"sqlite:///{tmp_path / 'target.db'}"},
        "copy": {"tables": ["customers"], "target_prep": "truncate"},
        **extra,
    }


def test_accepting_suggestions_from_the_cli_writes_the_mapping_then_the_copy_runs(
    copy_app: Moonshift, tmp_path: Path
) -> None:
    _renamed_columns(tmp_path)
    copy_app.migrations.apply_data(_spec(tmp_path), actor=AUTHOR)
    env = {"MOONSHIFT_STATE": f"sqlite:///{tmp_path / 'state.db'}"}
    listed = moonshift(tmp_path, "suggestions", "c", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    found = {s["source_column"]: s for s in json.loads(listed.stdout)}
    assert {c: s["target_column"] for c, s in found.items()} == {
        "cust_nm": "customer_name",
        "emailAddr": "email_address",
        "qty": "quantity",
    }
    assert all(s["score"] >= 0.8 and not s["review"] for s in found.values())
    assert found["emailAddr"]["candidates"][0][0] == "email_address"  # not email_verified
    shown = moonshift(tmp_path, "suggestions", "c", env=env)
    assert "customers.cust_nm" in shown.stdout and found["qty"]["sid"] in shown.stdout
    planned = moonshift(tmp_path, "plan", "c", env=env)
    assert planned.returncode == 1  # the unmapped columns refuse the copy, and say what helps
    assert "suggested mappings: 3 (0 to review)" in planned.stdout
    assert "see the plan's suggestions" in planned.stderr
    digest = copy_app.plans.plan("c", actor=AUTHOR).digest
    done = moonshift(tmp_path, "suggestions", "accept", "c", found["qty"]["sid"], env=env)
    assert done.returncode == 0 and "accepted" in done.stdout, done.stderr
    for column in ("cust_nm", "emailAddr"):  # the Python API, as the CLI does
        copy_app.suggestions.accept("c", found[column]["sid"], actor=AUTHOR)
    stale = moonshift(tmp_path, "suggestions", "accept", "c", found["qty"]["sid"], env=env)
    assert stale.returncode == BAD_INPUT and "no suggestion" in stale.stderr, stale
    assert copy_app.migrations.get("c").version == 4  # one new spec version per acceptance
    plan = copy_app.plans.plan("c", actor=AUTHOR)
    assert plan.digest != digest and not plan.suggestions and not plan.errors
    exported = moonshift(tmp_path, "export", "c", env=env).stdout
    assert "rename: customer_name" in exported and "rename: quantity" in exported
    history = " ".join(e.reason or "" for e in copy_app.runs.history("c"))
    assert f"accepted suggestion {found['cust_nm']['sid']}" in history
    run = run_copy(copy_app, "c")
    assert run.state is State.COMPLETED, run.reason
    recreated = {**_spec(tmp_path), "copy": {"tables": ["customers"], "target_prep": "drop_create"}}
    copy_app.migrations.apply_data(recreated, actor=AUTHOR)
    assert copy_app.suggestions.list("c", actor=AUTHOR) == []  # its own columns, whatever was there
    target = f"sqlite:///{tmp_path / 'target.db'}"
    rows = read(target, "customers", ["id", "customer_name", "email_address", "quantity"])
    assert len(rows) == 100 and rows[41] == ["42", "name 42", "u42@example.org", "0"]


def test_accepting_a_table_suggestion_voids_an_approval_of_the_old_plan(
    copy_app: Moonshift, tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "source.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC, placed_at TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, 9.5, "2026-01-02")])
    with sqlite3.connect(tmp_path / "target.db") as db:
        db.execute("CREATE TABLE tbl_Order (id INTEGER PRIMARY KEY, total NUMERIC, placedAt TEXT)")
    approval = {"required": True, "approvers": 2}
    copy_app.migrations.apply_data(
        {**_spec(tmp_path, approval=approval), "copy": {"tables": ["orders"]}}, actor=AUTHOR
    )
    run = copy_app.runs.execute(copy_app.runs.run_now("c", actor=AUTHOR).id)
    assert run.state is State.AWAITING_APPROVAL, run.reason
    copy_app.plans.approve("c", actor=BOB)
    [table, column] = copy_app.suggestions.list("c", actor=AUTHOR)
    assert (table.source_table, table.source_column, table.target_table) == (
        "orders",
        None,
        "tbl_Order",
    )
    assert (column.source_column, column.target_column) == ("placed_at", "placedAt")
    with pytest.raises(NotFound, match="no suggestion"):
        copy_app.suggestions.accept("c", "0123456789", actor=AUTHOR)
    assert copy_app.migrations.get("c").version == 1  # the unknown one changed nothing
    accepted = copy_app.suggestions.accept("c", table.sid, actor=AUTHOR)
    assert accepted.applied.version == 2
    assert any("approvals are void" in n for n in accepted.applied.notes), accepted.applied
    assert copy_app.runs.get(run.id).state is State.PLANNING
    assert all(a.void_at is not None for a in copy_app.plans.approvals(run.id))
    spec = copy_app.migrations.get("c").spec
    assert spec["copy"]["tables"] == [{"source": "orders", "target": "tbl_Order"}]


@pytest.mark.postgres
def test_postgres_target_with_renamed_columns_accepted_over_http_then_copied(
    tmp_path: Path, pg_database: str, pg_database_2: str
) -> None:
    create(
        pg_database,
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, acct_no VARCHAR(20), "
        "opened_dt DATE, bal NUMERIC(12, 2))",
    )
    conn = connector(pg_database).connect()
    execute(
        conn,
        "INSERT INTO accounts SELECT i, 'AC' || lpad(i::text, 6, '0'), "
        "DATE '2020-01-01' + i, i * 1.25 FROM generate_series(1, 500) AS i",
    )
    conn.close()
    create(
        pg_database_2,
        'CREATE TABLE accounts (id BIGINT PRIMARY KEY, "AccountNumber" TEXT, '
        '"openedDate" DATE, balance NUMERIC(14, 2), "accountNote" TEXT, '
        'acct_no_length INTEGER GENERATED ALWAYS AS (length("AccountNumber")) STORED)',
    )
    conn = connector(pg_database_2).connect()
    execute(
        conn,
        "INSERT INTO accounts SELECT i, 'AC' || lpad(i::text, 6, '0'), DATE '2020-01-01' + i, "
        "i * 1.25, 'note ' || i FROM generate_series(1, 200) AS i",
    )
    conn.close()
    spec = {
        "id": "accounts",
        "kind": "copy",
        "source": {"url": pg_database},
        "target": {"url": pg_database_2},
        "copy": {"tables": "*", "target_prep": "truncate"},
    }
    with running(tmp_path) as server, server.client() as api:
        assert api.post("/v1/migrations", json={"migrations": [spec]}).status_code == 201
        listed = api.get("/v1/migrations/accounts/suggestions").json()["items"]
        found = {s["source_column"]: s for s in listed}
        assert {c: s["target_column"] for c, s in found.items()} == {
            "acct_no": "AccountNumber",
            "opened_dt": "openedDate",
            "bal": "balance",
        }
        named = {c for s in listed for c, _ in s["candidates"]}
        assert "acct_no_length" not in named  # generated by the target: never written
        missing = api.post("/v1/migrations/accounts/suggestions/abcdef0123/accept")
        assert missing.status_code == 404 and "no suggestion" in missing.json()["detail"]
        for s in listed:
            accepted = api.post(f"/v1/migrations/accounts/suggestions/{s['sid']}/accept")
            assert accepted.status_code == 200, accepted.text
        assert api.get("/v1/migrations/accounts/suggestions").json()["items"] == []
        shown = api.get("/v1/migrations/accounts").json()["migration"]["spec"]
        overrides = shown["copy"]["overrides"]
        assert overrides["accounts"]["columns"]["acct_no"] == {"rename": "AccountNumber"}
    app = Moonshift(
        Settings(state_url=f"sqlite:///{tmp_path / 'state.db'}", home=tmp_path / "home"),
        environ={},
    )
    try:
        run = run_copy(app, "accounts")
    finally:
        app.close()
    assert run.state is State.COMPLETED, run.reason
    rows = read(pg_database_2, "accounts", ["id", "AccountNumber", "openedDate", "balance"])
    assert len(rows) == 500 and rows[499] == ["500", "AC000500", "2021-05-15", "625"]


@pytest.mark.mariadb
@pytest.mark.postgres
def test_mariadb_into_a_postgres_target_named_otherwise(
    copy_app: Moonshift, mariadb_database: str, pg_database: str
) -> None:
    create(
        mariadb_database,
        "CREATE TABLE contacts (id INT PRIMARY KEY, cust_nm VARCHAR(60), signup_dt DATE, qty INT)",
    )
    rows = [(i, f"name {i}", date(2025, 1, 1) + timedelta(days=i), i % 9) for i in range(1, 301)]
    insert(mariadb_database, "contacts", ["id", "cust_nm", "signup_dt", "qty"], rows)
    create(
        pg_database,
        'CREATE TABLE contacts (id BIGINT PRIMARY KEY, "customerName" TEXT, signup_date DATE, '
        "quantity BIGINT, cust_nm_old TEXT)",
    )
    decoys = [(*row, f"old {i}") for i, row in enumerate(rows[:100])]
    columns = ["id", "customerName", "signup_date", "quantity", "cust_nm_old"]
    insert(pg_database, "contacts", columns, decoys)
    spec = {
        "id": "c",
        "kind": "copy",
        "source": {"url": mariadb_database},
        "target": {"url": pg_database},
        "copy": {"tables": ["contacts"], "target_prep": "truncate"},
    }
    copy_app.migrations.apply_data(spec, actor=AUTHOR)
    found = {s.source_column: s for s in copy_app.suggestions.list("c", actor=AUTHOR)}
    assert {c: s.target_column for c, s in found.items()} == {
        "cust_nm": "customerName",  # not the decoy cust_nm_old, which holds other values
        "signup_dt": "signup_date",
        "qty": "quantity",
    }
    assert not any(s.review for s in found.values()), found
    for s in found.values():
        copy_app.suggestions.accept("c", s.sid, actor=AUTHOR)
    run = run_copy(copy_app, "c")
    assert run.state is State.COMPLETED, run.reason
    copied = read(pg_database, "contacts", ["id", "customerName", "signup_date", "quantity"])
    assert len(copied) == 300 and copied[-1] == ["300", "name 300", "2025-10-28", "3"]
