"""Structural and referential: a target that lost a foreign key, an index, a partition or a
generated column fails structural validation, naming each; an orphan row fails
referential validation, naming the row and the key it breaks."""

from __future__ import annotations

import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, create, run_copy
from tests.validation.helpers import validate

SHOP = [
    """CREATE TABLE customers (id serial PRIMARY KEY, email varchar(100) UNIQUE,
    name varchar(50) NOT NULL CHECK (name <> ''),
    upper_name varchar(50) GENERATED ALWAYS AS (upper(name)) STORED)""",
    "CREATE INDEX customers_name ON customers (name)",
    """CREATE TABLE orders (id integer, customer_id integer REFERENCES customers (id),
    at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)""",
    "CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "INSERT INTO customers (email, name) SELECT 'c' || g || '@x', 'name ' || g FROM generate_series(1, 30) g",
    """INSERT INTO orders SELECT g, g % 30 + 1, DATE '2025-06-01' + g * 2
    FROM generate_series(1, 200) g""",
]


def copied(app: Moonshift, source: str, target: str) -> None:
    for statement in SHOP:
        create(source, statement)
    apply(app, copy_spec(source, target, tables="*"))
    run = run_copy(app)
    assert run.state is State.COMPLETED, run.reason
    assert validate(app).passed, validate(app).summary


def whats(app: Moonshift) -> dict[str, set[tuple[str, str, str]]]:
    report = validate(app)
    return {
        r.perspective: {(d.table, d.kind, d.what) for d in r.divergences} for r in report.results
    }


@pytest.mark.postgres
def test_lost_objects_fail_structural_and_an_orphan_fails_referential(
    pg_database: str, pg_database_2: str, copy_app: Moonshift
) -> None:
    copied(copy_app, pg_database, pg_database_2)
    for statement in (
        "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey",
        "DROP INDEX customers_name",
        "ALTER TABLE orders DETACH PARTITION orders_2025",
        "DROP TABLE orders_2025",
        "ALTER TABLE customers ALTER COLUMN upper_name DROP EXPRESSION",
        "INSERT INTO orders VALUES (1000, 999, '2026-05-01')",
    ):
        create(pg_database_2, statement)
    found = whats(copy_app)
    assert found["structural"] == {
        ("customers", "changed", "column upper_name: is no longer generated"),
        ("customers", "missing", "index customers_name"),
        ("orders", "missing", "partition orders_2025"),
        (
            "orders",
            "missing",
            "orders_customer_id_fkey orders (customer_id) -> customers (id)",
        ),
    }
    assert found["referential"] == {
        (
            "orders",
            "orphan",
            "row id=1000, at=2026-05-01: customer_id=999 refers to no row of customers "
            "(orders_customer_id_fkey orders (customer_id) -> customers (id))",
        )
    }
    assert any(kind == "missing" for _t, kind, _w in found["row_level"])  # the 2025 rows


@pytest.mark.postgres
@pytest.mark.mariadb
def test_between_engines_a_dropped_key_and_index_fail_structural(
    pg_database: str, mariadb_database: str, copy_app: Moonshift
) -> None:
    copied(copy_app, pg_database, mariadb_database)
    for statement in (
        "ALTER TABLE orders DROP FOREIGN KEY orders_customer_id_fkey",
        "DROP INDEX customers_name ON customers",
        "ALTER TABLE customers MODIFY name VARCHAR(10) NOT NULL",
    ):
        create(mariadb_database, statement)
    found = whats(copy_app)
    structural = found["structural"]
    assert ("customers", "missing", "index customers_name") in structural
    assert (
        "orders",
        "missing",
        "orders_customer_id_fkey orders (customer_id) -> customers (id)",
    ) in structural
    changed = [w for t, k, w in structural if k == "changed"]
    assert len(changed) == 1 and changed[0].startswith("column name: type varchar(10)")
    assert found["referential"] == set()
