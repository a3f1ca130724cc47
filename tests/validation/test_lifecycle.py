"""The lifecycle's end: a completed copy moves to validating and ends certified or failed;
``validation: {auto: true}`` does it as the copy ends, ``moonshift validation run`` (and
POST .../validate) on demand; ``depends_on: {condition: certified}`` waits for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from moonshift.app import Moonshift, Settings
from moonshift.clock import SystemClock
from moonshift.domain.lifecycle import State
from moonshift.domain.validation_spec import Perspective
from moonshift.errors import Conflict
from moonshift.runtime.runs import LEASE, HeldLease, RunContext
from tests.copy.helpers import apply, copy_spec, create, insert, run_copy, scalar
from tests.helpers import FakeClock, moonshift
from tests.scheduler.sim import make_engine


def shop(url: str) -> None:
    create(url, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    create(
        url,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
        "REFERENCES customers (id), total NUMERIC(10,2))",
    )
    insert(url, "customers", ["id", "name"], [(i, f"c{i}") for i in range(1, 21)])
    insert(url, "orders", ["id", "customer_id"], [(i, i % 20 + 1) for i in range(1, 61)])


def urls(tmp_path: Path) -> tuple[str, str]:
    source, target = f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'target.db'}"
    shop(source)
    return source, target


def test_auto_validation_certifies_the_copy_it_ends(tmp_path: Path, copy_app: Moonshift) -> None:
    source, target = urls(tmp_path)
    apply(copy_app, {**copy_spec(source, target, tables="*"), "validation": {"auto": True}})
    run = run_copy(copy_app)
    assert run.state is State.CERTIFIED, run.reason
    steps = [(e.from_state, e.to_state) for e in copy_app.runs.history("c", limit=50)]
    assert ("running", "completed") in steps
    assert ("completed", "validating") in steps
    assert ("validating", "certified") in steps
    report = copy_app.validation.latest("c")
    assert report.passed and report.run_id == run.id and report.run_state is State.CERTIFIED
    assert [r.perspective for r in report.results] == list(Perspective)  # in their order
    rows = report.results[2]
    assert rows.counts["source_rows"] == rows.counts["target_rows"] == 80
    told = [(n.kind, n.run_id) for n in copy_app.store.events_of("c", limit=100)]
    assert ("validating", run.id) in told and ("certified", run.id) in told  # the outbox
    assert ("validated", run.id) in told


def test_validation_run_fails_the_run_names_the_divergences_and_exits_1(tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    spec = copy_spec(source, target, tables="*")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(spec))
    home = tmp_path / ".moonshift"  # the CLI's, in its working directory
    app = Moonshift(Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home), environ={})
    try:
        apply(app, spec)
        assert run_copy(app).state is State.COMPLETED
    finally:
        app.close()
    create(target, "UPDATE orders SET customer_id = 99 WHERE id = 5")

    result = moonshift(tmp_path, "validation", "run", "c", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "failed" and report["run_state"] == "failed"
    failed = {r["perspective"]: r["passed"] for r in report["results"]}
    assert failed == {
        "structural": True,
        "statistical": False,
        "row_level": False,
        "referential": False,
        "semantic": True,
        "behavioral": True,
    }
    shown = moonshift(tmp_path, "validation", "show", "c")
    assert shown.returncode == 0, shown.stderr
    assert "source: id=5, customer_id=6" in shown.stdout
    assert "row_level orders: changed: row id=5 differs in customer_id" in shown.stdout
    assert "referential orders: orphan: row id=5: customer_id=99 refers to no row of customers" in (
        shown.stdout
    )
    app = Moonshift(Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home), environ={})
    try:
        run = app.runs.list("c", limit=1)[0]
        assert run.state is State.FAILED
        assert "row_level FAILED" in (run.reason or "")
        assert len(app.store.validations("c")) == 1
    finally:
        app.close()

    assert moonshift(tmp_path, "validate", "c.yaml").returncode == 0  # still the spec check


def test_a_dependency_on_certified_waits_for_the_certificate(
    tmp_path: Path, app: Moonshift, clock: FakeClock
) -> None:
    source, target = urls(tmp_path)
    apply(app, copy_spec(source, target, tables="*"))
    apply(
        app,
        {
            "id": "report",
            "kind": "steps",
            "steps": {"count": 1},
            "depends_on": [{"migration": "c", "condition": "certified"}],
            "dependency_strategy": "wait",
        },
    )
    copied = run_copy(app)
    assert copied.state is State.COMPLETED
    engine, launcher = make_engine(app.store, clock, tmp_path)
    clock.advance(1)
    waiting = app.runs.run_now("report", actor="test")
    engine.dispatch(clock.now())
    assert launcher.launched == []
    assert "waiting for dependency c to be certified" in (
        app.runs.get(waiting.id).waiting_for or ""
    )

    assert app.validation.run("c", actor="test").passed
    assert app.runs.get(copied.id).state is State.CERTIFIED
    engine.dispatch(clock.now())
    assert launcher.launched == [waiting.id]


def test_validation_refuses_while_a_run_is_under_way(tmp_path: Path, copy_app: Moonshift) -> None:
    source, target = urls(tmp_path)
    apply(copy_app, copy_spec(source, target, tables="*"))
    assert scalar(source, "SELECT COUNT(*) FROM orders") == 60
    run = copy_app.runs.run_now("c", actor="test")
    with pytest.raises(Conflict, match=f"run {run.id} of c is created"):  # queued: under way
        copy_app.validation.run("c", actor="test")
    assert copy_app.store.validations("c") == []


def test_divergences_are_capped_per_perspective_and_counted_whole(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = urls(tmp_path)
    spec = copy_spec(source, target, tables="*")
    apply(copy_app, {**spec, "validation": {"max_divergences": 5, "perspectives": ["row_level"]}})
    assert run_copy(copy_app).state is State.COMPLETED
    create(target, "DELETE FROM orders WHERE id > 30")
    report = copy_app.validation.run("c", actor="test")
    rows = report.results[0]
    assert (rows.found, rows.kept) == (30, 5)
    page = copy_app.validation.divergences("c", limit=100)
    assert [d.what for d in page.items] == [
        f"row id={i} is in the source only" for i in range(31, 36)
    ]
    assert page.next is None


def test_a_validation_whose_run_was_taken_over_moves_it_no_further(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    source, target = urls(tmp_path)
    apply(copy_app, copy_spec(source, target, tables="*"))
    run = run_copy(copy_app)
    store, clock = copy_app.store, SystemClock()
    ctx = RunContext(store, tmp_path / "home", clock, {}, "worker:validating")
    now = clock.now()
    store.transition_run(
        run.id,
        State.VALIDATING,
        actor=ctx.actor,
        now=now,
        lease_owner=ctx.actor,
        lease_expires_at=now + LEASE,
    )
    lease = HeldLease(ctx, run.id, ctx.actor)
    assert lease.held()
    # it stalled past its lease: a daemon failed the run ("worker lost") and let it go
    store.update_run(run.id, now=clock.now(), lease_owner="daemon:other")
    assert not lease.held() and lease.lost
