"""Small things a new user met on a walk-through: the error queue's --json before the
migration id, lag on a SQLite text timestamp, how a start and a user's pause are recorded,
and automatic retries kept in the history."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from tests.copy.helpers import apply, copy_spec, run_copy
from tests.copy.readers import run_sql
from tests.helpers import moonshift


def test_options_may_come_before_the_migration_id_in_the_errors_and_rollback_groups(
    tmp_path: Path,
) -> None:
    run_sql(f"sqlite:///{tmp_path / 's.db'}", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    (tmp_path / "m.yaml").write_text(
        "id: c\nkind: copy\nsource: {url: 'sqlite:///s.db'}\ntarget: {url: 'sqlite:///t.db'}\n"
    )
    assert moonshift(tmp_path, "apply", "m.yaml").returncode == 0
    listed = moonshift(tmp_path, "errors", "--json", "c")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    shown = moonshift(tmp_path, "rollback", "--json", "status", "c")
    assert shown.returncode == 0, shown.stderr


def test_lag_measures_a_sqlite_text_timestamp_cursor(tmp_path: Path, copy_app: Moonshift) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    run_sql(
        source,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL)",
        "INSERT INTO events VALUES (1, '2020-01-01 00:00:00')",
    )
    apply(copy_app, copy_spec(source, target, mode="incremental", cursor="at"))
    assert run_copy(copy_app).state is State.COMPLETED
    run_sql(source, "INSERT INTO events VALUES (2, '2026-01-01 00:00:00')")
    (found,) = copy_app.copies.lag("c")
    assert found.rows_behind == 1
    assert found.distance == str(timedelta(days=2192))


def test_a_start_and_a_users_pause_are_recorded_as_what_and_who_they_were(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    from scripts.make_shop import build

    build(tmp_path / "shop.db", 20_000)
    source, target = f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tmp_path / 't.db'}"
    apply(copy_app, copy_spec(source, target, batch_size=10, parallel=1))
    now = copy_app.clock.now()
    copy_app.store.register_daemon("d", host="here", pid=os.getpid(), now=now)
    run = copy_app.runs.start("c", actor="ann")
    assert [e.reason for e in copy_app.runs.history("c") if e.run_id == run.id] == ["start by ann"]
    copy_app.store.transition_run(run.id, State.ANALYZING, actor="t", now=now)
    for state in (State.PLANNING, State.AWAITING_APPROVAL, State.APPROVED, State.RUNNING):
        copy_app.store.transition_run(run.id, state, actor="t", now=now)
    copy_app.copies.pause("c", actor="bob")
    copy_app.copies.configure("c", {"batch_size": "20"}, actor="cy")
    actors = {
        e.action: e.actor
        for e in copy_app.runs.history("c")
        if e.action.startswith(("control", "config"))
    }
    assert actors == {"control pause": "bob", "config changed": "cy"}
