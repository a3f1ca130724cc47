"""What a copy creates after the rows (keys, indexes, foreign keys, numbering) are phases
checkpointed in the target: done after a pause, an emergency stop or a failure, whatever
the resumed run's plan finds; and verify never calls an unfinished copy a match."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, run_copy
from tests.copy.readers import run_sql
from tests.helpers import moonshift
from tests.scheduler.test_daemon import until

pytestmark = pytest.mark.postgres
SHOP_ROWS = 20_000

CATALOG = """
SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f')
AND conrelid::regclass::text <> '_moonshift_checkpoints'
UNION ALL
SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = 'orders_by_customer'
ORDER BY 1
"""
EXPECTED = [
    "customers p PRIMARY KEY (id)",
    "customers u UNIQUE (email)",
    "order_items f FOREIGN KEY (order_id) REFERENCES orders(id)",
    "order_items f FOREIGN KEY (sku) REFERENCES products(sku)",
    "order_items p PRIMARY KEY (order_id, line)",
    "orders f FOREIGN KEY (customer_id) REFERENCES customers(id)",
    "orders p PRIMARY KEY (id)",
    "orders_by_customer",
    "products p PRIMARY KEY (sku)",
]


def catalog(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(CATALOG)]


@pytest.mark.parametrize("immediate", [False, True], ids=["pause", "stop-immediate"])
def test_keys_indexes_and_foreign_keys_exist_after_a_copy_paused_or_stopped_and_resumed(
    tmp_path: Path, pg_database: str, copy_app: Moonshift, immediate: bool
) -> None:
    from scripts.make_shop import build

    build(tmp_path / "shop.db", SHOP_ROWS)
    source = f"sqlite:///{tmp_path / 'shop.db'}"
    run_sql(source, "CREATE INDEX orders_by_customer ON orders (customer_id)")
    # batches of 5: the rows take a few seconds, so the pause below lands among them even on
    # a loaded machine (the worker looks at its run every half second)
    apply(copy_app, copy_spec(source, pg_database, batch_size=5, parallel=1))
    run = copy_app.runs.run_now("c", actor="test")
    copy_app.runs.start_worker(run.id)
    until(lambda: copy_app.runs.get(run.id).state is State.RUNNING, 60)
    copies = copy_app.copies
    if immediate:
        copies.stop("c", actor="test", immediate=True)
    else:
        copies.pause("c", actor="test")
    until(lambda: copy_app.runs.get(run.id).state is State.PAUSED, 30)
    assert catalog(pg_database) == []  # nothing of it yet: built once the rows are in
    copies.resume("c", actor="test")
    finished = copy_app.runs.execute(run.id)  # its plan finds every table there already
    assert finished.state is State.COMPLETED, finished.reason
    assert catalog(pg_database) == EXPECTED
    assert all(c.matches for c in copies.verify("c"))


@pytest.mark.mariadb
def test_a_phase_the_target_refuses_leaves_verify_unfinished_until_a_copy_finishes_it(
    tmp_path: Path, mariadb_database: str, pg_database: str, copy_app: Moonshift
) -> None:
    run_sql(
        mariadb_database,
        "CREATE TABLE parent (id INT PRIMARY KEY)",
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, "
        "CONSTRAINT to_parent FOREIGN KEY (parent_id) REFERENCES parent (id))",
        "INSERT INTO parent VALUES (1)",
        "SET foreign_key_checks = 0",
        "INSERT INTO child VALUES (1, 1), (2, 99)",  # an orphan MariaDB was told to allow
    )
    apply(copy_app, copy_spec(mariadb_database, pg_database))
    failed = run_copy(copy_app)
    assert failed.state is State.FAILED
    assert "the target refused" not in (failed.reason or "")  # the rows went in first
    assert 'foreign key to_parent on child: insert or update on table "child"' in (
        failed.reason or ""
    )
    checks = {c.table: c for c in copy_app.copies.verify("c")}
    assert checks["parent"].matches
    assert not checks["child"].matches
    assert checks["child"].source_rows == checks["child"].target_rows == 2
    assert checks["child"].unfinished == ["phase foreign key to_parent did not finish"]
    (tmp_path / "m.yaml").write_text(
        f"id: c\nkind: copy\nsource: {{url: '{mariadb_database}'}}\n"
        f"target: {{url: '{pg_database}'}}\n"
    )
    env = {"MOONSHIFT_HOME": str(tmp_path / "cli")}
    assert moonshift(tmp_path, "apply", "m.yaml", env=env).returncode == 0
    shown = moonshift(tmp_path, "verify", "c", env=env)
    assert shown.returncode == 1
    assert "UNFINISHED" in shown.stdout
    assert "child: phase foreign key to_parent did not finish" in shown.stderr
    run_sql(mariadb_database, "DELETE FROM child WHERE id = 2")
    apply(copy_app, copy_spec(mariadb_database, pg_database, target_prep="truncate"))
    again = run_copy(copy_app)  # a new copy: the tables exist, the foreign key is still due
    assert again.state is State.COMPLETED, again.reason
    assert all(c.matches for c in copy_app.copies.verify("c"))
    with psycopg.connect(pg_database) as conn:
        found = conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'f'")
        assert found.fetchall() == [("to_parent",)]
