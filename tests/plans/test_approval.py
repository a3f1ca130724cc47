"""Stored plans and approval through the application layer, on SQLite: a run waits for its
approvers holding no worker, approvals name the plan digest, changes void them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from moonshift.app import Moonshift, Settings, views
from moonshift.domain.lifecycle import State
from moonshift.errors import Conflict, InvalidInput

SPEC = """\
id: shop
kind: copy
source: {{url: "sqlite:///{source}"}}
target: {{url: "sqlite:///{target}"}}
copy: {{batch_size: {batch}}}
approval: {{required: true, approvers: {approvers}, not_the_author: true}}
"""
AUTHOR, BOB, CAROL = "user:alice", "user:bob", "user:carol"


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Moonshift]:
    with sqlite3.connect(tmp_path / "source.db") as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"item {i}") for i in range(50)])
    app = Moonshift(
        Settings(state_url=f"sqlite:///{tmp_path / 'state.db'}", home=tmp_path / "home"),
        environ={"PATH": "/usr/bin:/bin"},
    )
    yield app
    app.close()


def apply(app: Moonshift, tmp_path: Path, *, approvers: int = 2, batch: int = 100) -> views.Applied:
    text = SPEC.format(
        source=tmp_path / "source.db",
        target=tmp_path / "target.db",
        approvers=approvers,
        batch=batch,
    )
    return app.migrations.apply_text(text, actor=AUTHOR)


def waiting_run(app: Moonshift) -> views.Run:
    run = app.runs.execute(app.runs.run_now("shop", actor=AUTHOR).id)
    assert run.state is State.AWAITING_APPROVAL, run.reason
    return run


def test_two_approvers_wait_without_a_worker_and_the_author_is_refused(
    shop: Moonshift, tmp_path: Path
) -> None:
    apply(shop, tmp_path)
    run = waiting_run(shop)
    assert (run.lease_owner, run.worker_pid) == (None, None)
    assert shop.store.working_runs() == []
    needed = [n for n in shop.store.events_of(run_id=run.id) if n.kind == "approval_needed"]
    assert len(needed) == 1 and dict(needed[0].details or {}) == {"approvals_needed": 2}
    plan = shop.plans.of_run(run.id)
    assert len(plan.digest) == 64 and plan.approvals_needed == 2 and plan.author == AUTHOR
    assert [t.source for t in plan.tables] == ["items"] and plan.tables[0].rows == 50
    assert plan.schemas["source"]["items"]["key"] == ["id"]
    with pytest.raises(Conflict, match="not_the_author"):
        shop.plans.approve("shop", actor=AUTHOR)
    first = shop.plans.approve("shop", actor=BOB, note="mappings reviewed")
    assert first.run.state is State.AWAITING_APPROVAL and first.approved_by == [BOB]
    with pytest.raises(Conflict, match="already"):
        shop.plans.approve("shop", actor=BOB)
    second = shop.plans.approve("shop", actor=CAROL, run_id=run.id)
    assert second.run.state is State.APPROVED and second.approved_by == [BOB, CAROL]
    recorded = shop.plans.approvals(run.id)
    assert {(a.actor, a.digest, a.note) for a in recorded} == {
        (BOB, plan.digest, "mappings reviewed"),
        (CAROL, plan.digest, None),
    }
    done = shop.runs.execute(run.id)
    assert done.state is State.COMPLETED, done.reason
    with sqlite3.connect(tmp_path / "target.db") as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone() == (50,)
    steps = [(e.action, e.to_state) for e in reversed(shop.runs.history("shop"))]
    for expected in [
        ("start", "analyzing"),
        ("analyze", "planning"),
        ("planned", None),
        ("plan", "awaiting_approval"),
        ("approval", None),
        ("approve", "approved"),
        ("execute", "running"),
        ("complete", "completed"),
    ]:
        assert expected in steps, (expected, steps)
    assert steps.index(("approve", "approved")) < steps.index(("execute", "running"))


def test_a_spec_change_voids_the_approvals_and_the_run_plans_again(
    shop: Moonshift, tmp_path: Path
) -> None:
    apply(shop, tmp_path)
    run = waiting_run(shop)
    before = shop.plans.of_run(run.id)
    shop.plans.approve("shop", actor=BOB)
    changed = apply(shop, tmp_path, batch=10)
    assert changed.version == 2
    assert changed.notes == [
        f"run {run.id}: the spec changed to version 2; its approvals are void and it plans again"
    ]
    back = shop.runs.get(run.id)
    assert back.state is State.PLANNING and back.lease_owner is None
    assert [a.void_at is not None for a in shop.plans.approvals(run.id)] == [True]
    again = shop.runs.execute(run.id)
    assert again.state is State.AWAITING_APPROVAL
    after = shop.plans.of_run(run.id)
    assert after.digest != before.digest and after.spec_version == 2
    one = shop.plans.approve("shop", actor=BOB)
    assert one.run.state is State.AWAITING_APPROVAL and one.approved_by == [BOB]


def test_an_approved_run_keeps_its_spec_version_and_apply_says_so(
    shop: Moonshift, tmp_path: Path
) -> None:
    apply(shop, tmp_path, approvers=1)
    run = waiting_run(shop)
    assert shop.plans.approve("shop", actor=BOB).run.state is State.APPROVED
    changed = apply(shop, tmp_path, approvers=1, batch=7)
    assert changed.notes == [
        f"run {run.id} keeps spec version 1, which it was approved with; later runs get version 2"
    ]
    assert shop.runs.get(run.id).state is State.APPROVED
    done = shop.runs.execute(run.id)
    assert (done.state, done.spec_version) == (State.COMPLETED, 1)


def test_a_source_schema_change_after_approval_voids_it(shop: Moonshift, tmp_path: Path) -> None:
    apply(shop, tmp_path, approvers=1)
    run = waiting_run(shop)
    approved = shop.plans.of_run(run.id).digest
    shop.plans.approve("shop", actor=BOB)
    with sqlite3.connect(tmp_path / "source.db") as db:
        db.execute("ALTER TABLE items ADD COLUMN price NUMERIC")
    again = shop.runs.execute(run.id)
    assert again.state is State.AWAITING_APPROVAL
    assert shop.plans.of_run(run.id).digest != approved
    assert shop.plans.approvals(run.id)[0].void_reason is not None
    reasons = [e.reason or "" for e in shop.runs.history("shop")]
    assert any("source schema or the mapping changed" in r for r in reasons)


def test_on_demand_plans_are_versioned_and_a_reject_cancels(
    shop: Moonshift, tmp_path: Path
) -> None:
    apply(shop, tmp_path)
    first = shop.plans.plan("shop", actor=BOB)
    name = first.profile["items"]["columns"]["name"]
    assert (name["null_fraction"], name["distinct_estimate"], name["min"]) == (0.0, 50, "item 0")
    assert name["length"] == {"min": 6, "median": 7, "p95": 7, "max": 7}
    [measured] = first.estimate["tables"] if first.estimate else [None]
    assert measured["rows"] == measured["sample_rows"] == 50 and measured["seconds"] > 0
    assert measured["read_rows_per_second"] > 0 and first.forecast is not None
    # SQLite to SQLite is sampled as it copies, attached: one statement reads and writes
    assert measured["read_rows_per_second"] == measured["write_rows_per_second"]
    with sqlite3.connect(tmp_path / "target.db") as db:
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert not [n for (n,) in names if n.startswith("moonshift_sample")]
    assert first.forecast["text"].startswith("runs at once; finishes ")
    assert shop.plans.plan("shop", actor=BOB).version == first.version  # stored, not redone
    refreshed = shop.plans.plan("shop", actor=BOB, refresh=True)
    assert (refreshed.version, refreshed.digest) == (first.version + 1, first.digest)
    run = waiting_run(shop)
    assert shop.plans.of_run(run.id).digest == first.digest
    with pytest.raises(InvalidInput, match="reason"):
        shop.plans.reject("shop", actor=BOB, reason=" ")
    rejected = shop.plans.reject("shop", actor=BOB, reason="wrong target")
    assert rejected.run.state is State.CANCELLED and "wrong target" in (rejected.run.reason or "")
    with pytest.raises(Conflict, match="no run"):
        shop.plans.approve("shop", actor=CAROL)
    shop.plans.note("shop", "rescheduled after the close", actor=CAROL)
    notes = [e for e in shop.runs.history("shop") if e.action == "note"]
    assert [(n.actor, n.reason) for n in notes] == [(CAROL, "rescheduled after the close")]
