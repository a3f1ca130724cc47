"""Each risk rule, triggered by a real database, found by its stable id in the plan; and
what the findings do to a run (risk.fail_on, approval.on_risk)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.domain.risk import RULES
from tests.copy.helpers import apply, copy_spec, create, insert, run_copy
from tests.helpers import PG_ADMIN, moonshift


def urls(tmp_path: Path) -> tuple[str, str]:
    return f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"


def risks(copy_app: Moonshift, migration: str = "c") -> dict[str, list[str]]:
    """rule id -> the subjects it found."""
    found: dict[str, list[str]] = {}
    for r in copy_app.plans.plan(migration, actor="test", refresh=True).risks:
        assert r.remediation and r.severity == RULES[r.rule].severity.value
        found.setdefault(r.rule, []).append(r.subject)
    return found


def test_keyless_table(copy_app: Moonshift, tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    create(source, "CREATE TABLE logbook (at TEXT, line TEXT)")
    apply(copy_app, copy_spec(source, target))
    assert risks(copy_app)["keyless-table"] == ["logbook"]


def test_non_empty_target_and_target_triggers(copy_app: Moonshift, tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    for url in (source, target):
        create(url, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    create(target, "CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)")
    create(
        target,
        "CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN "
        "INSERT INTO audit (note) VALUES (NEW.name); END",
    )
    insert(target, "items", ["id", "name"], [(1, "old")])
    apply(copy_app, copy_spec(source, target, tables=["items"]))
    found = risks(copy_app)
    assert found["non-empty-target"] == ["items"] and found["target-triggers"] == ["items"]
    apply(copy_app, copy_spec(source, target, tables=["items"], target_prep="truncate"))
    assert "non-empty-target" not in risks(copy_app)


def test_foreign_key_cycle(copy_app: Moonshift, tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    create(
        source,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id))",
    )
    create(source, "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id))")
    apply(copy_app, copy_spec(source, target))
    assert risks(copy_app)["foreign-key-cycle"] == ["a"]


def test_cursor_without_index(copy_app: Moonshift, tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    create(source, "CREATE TABLE events (id INTEGER PRIMARY KEY, changed_at TEXT)")
    apply(copy_app, copy_spec(source, target, mode="incremental", cursor="changed_at"))
    assert risks(copy_app)["cursor-without-index"] == ["events.changed_at"]
    create(source, "CREATE INDEX events_changed ON events (changed_at)")
    assert "cursor-without-index" not in risks(copy_app)


def test_dependency_not_scheduled_before(copy_app: Moonshift, tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    create(source, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    apply(copy_app, {"id": "first", "kind": "command", "command": "true"})
    # hours ahead of now, so that both next runs fall in this order whatever the time of day
    hour = (datetime.now(UTC).hour + 3) % 24
    later = {**copy_spec(source, target), "schedule": {"cron": f"0 {hour} * * *"}}
    apply(copy_app, {**later, "depends_on": [{"migration": "first"}]})
    assert risks(copy_app)["dependency-not-scheduled-before"] == ["first"]
    for before, late in ((1, False), (-1, True)):
        cron = f"0 {(hour - before) % 24} * * *"
        first = {"id": "first", "kind": "command", "command": "true", "schedule": {"cron": cron}}
        apply(copy_app, first)
        assert ("dependency-not-scheduled-before" in risks(copy_app)) is late, cron


@pytest.mark.postgres
def test_lossy_and_refused_mappings(
    copy_app: Moonshift, pg_database: str, pg_database_2: str
) -> None:
    create(pg_database, "CREATE TABLE money (id BIGINT PRIMARY KEY, n BIGINT)")
    create(pg_database_2, "CREATE TABLE money (id BIGINT PRIMARY KEY, n INTEGER)")
    apply(copy_app, copy_spec(pg_database, pg_database_2))
    assert risks(copy_app)["refused-mapping"] == ["money.n"]
    apply(copy_app, copy_spec(pg_database, pg_database_2, allow_lossy=["money.n"]))
    found = risks(copy_app)
    assert found["lossy-mapping"] == ["money.n"] and "refused-mapping" not in found


@pytest.mark.postgres
def test_missing_privileges_are_tried_for_real(
    copy_app: Moonshift, pg_database: str, pg_database_2: str
) -> None:
    role = f"moonshift_ro_{uuid.uuid4().hex[:8]}"
    create(pg_database, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        limited = pg_database_2.replace("postgres@", f"{role}@")
        apply(copy_app, copy_spec(pg_database.replace("postgres@", f"{role}@"), limited))
        plan = copy_app.plans.plan("c", actor="test", refresh=True)
        found = [r.message.split(": ")[1] for r in plan.risks if r.rule == "missing-privileges"]
        assert found == ["cannot read items"], plan.risks
        apply(copy_app, copy_spec(pg_database, limited))
        plan = copy_app.plans.plan("c", actor="test", refresh=True)
        found = [r.message.split(": ")[1] for r in plan.risks if r.rule == "missing-privileges"]
        assert found == ["cannot create tables"], plan.risks
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.postgres
def test_long_running_source_transactions(
    copy_app: Moonshift, pg_database: str, tmp_path: Path
) -> None:
    create(pg_database, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    apply(
        copy_app,
        {
            **copy_spec(pg_database, f"sqlite:///{tmp_path / 't.db'}"),
            "risk": {"long_transaction": "1s"},
        },
    )
    opened, done = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(pg_database) as conn:
            conn.execute("SELECT 1")  # a transaction is open from here
            opened.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert opened.wait(30)
        threading.Event().wait(2.0)
        assert risks(copy_app)["long-source-transactions"] == ["source"]
    finally:
        done.set()
        holder.join()


def test_fail_on_high_stops_the_run_and_on_risk_asks_for_approval(
    copy_app: Moonshift, tmp_path: Path
) -> None:
    source, target = urls(tmp_path)
    for url in (source, target):
        create(url, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    insert(target, "items", ["id"], [(1,)])
    spec: dict[str, Any] = copy_spec(source, target)
    apply(copy_app, {**spec, "risk": {"fail_on": "high"}})
    failed = run_copy(copy_app)
    assert failed.state is State.FAILED and "non-empty-target" in (failed.reason or "")
    apply(copy_app, {**spec, "approval": {"on_risk": "medium"}})
    assert run_copy(copy_app).state is State.AWAITING_APPROVAL
    apply(
        copy_app,
        {**spec, "approval": {"on_risk": "medium"}, "risk": {"ignore": ["non-empty-target"]}},
    )
    copy_app.runs.cancel(copy_app.runs.list("c")[0].id, actor="test")
    assert run_copy(copy_app).state is State.COMPLETED


def test_plan_json_carries_rule_ids(tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    create(source, "CREATE TABLE logbook (line TEXT)")
    (tmp_path / "m.yaml").write_text(
        f"id: c\nkind: copy\nsource: {{url: '{source}'}}\ntarget: {{url: '{target}'}}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    shown = moonshift(tmp_path, "plan", "c", "--json")
    assert [r["rule"] for r in json.loads(shown.stdout)["risks"]] == ["keyless-table"]
    assert "keyless-table" in moonshift(tmp_path, "plan", "c").stdout
