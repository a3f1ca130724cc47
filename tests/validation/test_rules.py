"""Statistical, semantic and behavioral: a profile that moved past its column's tolerance,
a broken business rule and a query whose answer differs each fail, naming what differs;
tolerances let small changes pass; a query may be given per engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, create, insert, run_copy

VALIDATION: dict[str, Any] = {
    "statistical": {"columns": {"orders.total": {"tolerance": 0.05}}},
    "rules": [
        {
            "name": "no negative totals",
            "sql": "SELECT COUNT(*) FROM orders WHERE total < 0",
            "expect": 0,
        },
        {
            "name": "revenue",
            "sql": "SELECT SUM(total) FROM orders",
            "compare": "source",
            "tolerance": 0.01,
        },
    ],
    "queries": [
        {
            "name": "orders per customer",
            "sql": "SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id",
        },
        {
            "name": "names in order",
            "engines": {
                "sqlite": "SELECT group_concat(name, ',') FROM (SELECT name FROM customers ORDER BY id)",
                "postgresql": "SELECT string_agg(name, ',' ORDER BY id) FROM customers",
                "mysql": "SELECT GROUP_CONCAT(name ORDER BY id SEPARATOR ',') FROM customers",
            },
        },
    ],
}


def shop(url: str) -> None:
    create(url, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)")
    create(
        url,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
        "total DECIMAL(10,2))",
    )
    insert(url, "customers", ["id", "name"], [(i, f"c{i}") for i in range(1, 11)])
    insert(
        url,
        "orders",
        ["id", "customer_id", "total"],
        [(i, i % 10 + 1, Decimal(i) * Decimal("1.5")) for i in range(1, 61)],
    )


def check(app: Moonshift, source: str, target: str) -> None:
    shop(source)
    spec = copy_spec(source, target, tables="*", redact=["orders.total"])
    apply(app, {**spec, "validation": VALIDATION})
    assert run_copy(app).state is State.COMPLETED
    clean = app.validation.run("c", actor="test")
    assert clean.passed, [d.what for d in app.validation.divergences("c").items]
    assert clean.run_state is State.CERTIFIED
    by = {r.perspective: r for r in clean.results}
    assert by["semantic"].counts == {"rules": 2} and by["behavioral"].counts["queries"] == 2
    assert by["statistical"].counts["statistics"] > 10

    create(target, "UPDATE orders SET total = -1 WHERE id = 3")
    create(target, "UPDATE customers SET name = 'renamed' WHERE id = 2")
    found = app.validation.run("c", actor="test")
    failed = {r.perspective for r in found.results if not r.passed}
    assert failed == {"statistical", "row_level", "semantic", "behavioral"}
    whats = {(d.perspective, d.what) for d in app.validation.divergences("c").items}
    assert ("semantic", "rule no negative totals: 1 on the target, 0 expected") in whats
    assert not any("rule revenue" in w for _p, w in whats)  # 0.2%: within its 1%
    assert (
        "statistical",
        "column total: min *** in the source, *** in the target (tolerance 0.05)",
    ) in whats  # a redacted column's values stay masked
    page = app.validation.divergences("c").items
    order = next(d for d in page if d.perspective == "row_level" and d.table == "orders")
    assert order.what == "row id=3 differs in total"
    assert order.source is not None and order.source["total"] == "***"
    assert not any("column total: sum" in w for _p, w in whats)  # within 5%
    behavioral = [w for p, w in whats if p == "behavioral"]
    assert behavioral == [
        "query names in order: 1 rows in the source, 1 in the target; 1 only in the "
        "source, 1 only in the target"
    ]
    assert ("statistical", "column name: length 21 in the source, 26 in the target") in whats


def test_rules_queries_and_profiles_on_sqlite(tmp_path: Path, copy_app: Moonshift) -> None:
    check(copy_app, f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}")


@pytest.mark.postgres
@pytest.mark.mariadb
def test_a_query_per_engine_between_postgresql_and_mariadb(
    pg_database: str, mariadb_database: str, copy_app: Moonshift
) -> None:
    check(copy_app, pg_database, mariadb_database)
