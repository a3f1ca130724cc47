"""What the dashboard reads from the application layer: the overview, a page of migrations in
one query whatever their number, and login sessions checked like keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from sqlalchemy import event

from moonshift.app import Moonshift
from moonshift.domain.progress import Progress, TableProgress
from moonshift.errors import Forbidden, InvalidInput, Unauthenticated
from tests.helpers import FakeClock

MONDAY_MIDDAY_UTC = {"name": "noon", "days": ["monday"], "start": "11:00", "end": "13:00"}


def _migrations(app: Moonshift, count: int) -> None:
    for i in range(count):
        spec: dict[str, object] = {
            "id": f"m{i:04d}",
            "name": f"Nightly {i}",
            "kind": "command",
            "command": "true",
        }
        if i % 3 == 0:
            spec["schedule"] = {"cron": "0 2 * * *", "timezone": "UTC"}
            sunday = {**MONDAY_MIDDAY_UTC, "days": ["sunday"]}
            spec["windows"] = [MONDAY_MIDDAY_UTC if i % 2 else sunday]
        app.migrations.apply_text(_yaml(spec), actor="user:test")


def _yaml(spec: dict[str, object]) -> str:
    return yaml.safe_dump(spec)


@contextmanager
def _statements(app: Moonshift) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(app.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.store.engine, "before_cursor_execute", count)


def test_the_overview_reads_a_page_in_one_query_and_pages_through_all(app: Moonshift) -> None:
    _migrations(app, 120)
    with _statements(app) as seen:
        first = app.migrations.overview(limit=50)
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [r.id for r in first.items][:2] == ["m0000", "m0001"] and first.next == "m0049"
    ids = [r.id for r in first.items]
    after = first.next
    while after:
        more = app.migrations.overview(limit=50, after=after)
        ids += [r.id for r in more.items]
        after = more.next
    assert ids == [f"m{i:04d}" for i in range(120)]


def test_the_overview_shows_state_progress_next_fire_and_window(
    app: Moonshift, clock: FakeClock
) -> None:
    _migrations(app, 7)
    run = app.runs.run_now("m0001", actor="user:test")
    progress = Progress(tables={"a": TableProgress(state="copying", rows=30, total=120)})
    app.store.update_run(run.id, now=clock.now(), progress=progress)
    rows = {r.id: r for r in app.migrations.overview().items}
    assert rows["m0001"].status == "created" and rows["m0001"].share == pytest.approx(0.25)
    assert rows["m0002"].status == "idle" and rows["m0002"].share is None
    # 2026-01-05 12:00 UTC is a Monday noon: m0003's window (Mondays 11-13 UTC) is open,
    # m0000's (Sundays) closed, m0001 has none.
    assert (rows["m0003"].window, rows["m0000"].window, rows["m0001"].window) == (
        "open",
        "closed",
        None,
    )
    assert rows["m0003"].next_fire_at is not None and rows["m0001"].next_fire_at is None


def test_the_overview_filters_by_state_and_searches_ids_and_names(app: Moonshift) -> None:
    _migrations(app, 30)
    app.runs.run_now("m0013", actor="user:test")  # one without windows
    assert [r.id for r in app.migrations.overview(status="created").items] == ["m0013"]
    idle = app.migrations.overview(status="idle", limit=100).items
    assert len(idle) == 29 and "m0013" not in {r.id for r in idle}
    assert [r.id for r in app.migrations.overview(search="NIGHTLY 2").items] == [
        "m0002",
        *(f"m00{i}" for i in range(20, 30)),
    ]
    assert [r.id for r in app.migrations.overview(search="m0007").items] == ["m0007"]
    assert app.migrations.overview(search="100%").items == []
    with pytest.raises(InvalidInput) as refused:
        app.migrations.overview(status="sleeping")
    assert refused.value.field == "status"


def test_a_session_answers_like_its_key_and_ends_at_logout(
    app: Moonshift, clock: FakeClock
) -> None:
    read = app.keys.create("viewer", "read", actor="user:test").key
    feed = app.keys.create("calendar", "feed", actor="user:test").key
    session = app.keys.login(read)
    assert session.token != read and session.principal.scope == "read"
    assert app.keys.session(session.token, needs="read").name == "viewer"
    with pytest.raises(Forbidden):
        app.keys.session(session.token, needs="operate")
    with pytest.raises(Forbidden):
        app.keys.login(feed)
    with pytest.raises(Unauthenticated):
        app.keys.login("ms_not-a-key")
    app.keys.logout(session.token)
    with pytest.raises(Unauthenticated):
        app.keys.session(session.token, needs="read")
    # a revoked key ends its sessions; an old session ends by itself
    second = app.keys.login(read)
    app.keys.revoke("viewer", actor="user:test")
    with pytest.raises(Unauthenticated):
        app.keys.session(second.token, needs="read")
    operate = app.keys.create("ops", "operate", actor="user:test").key
    third = app.keys.login(operate)
    clock.advance(13 * 3600)
    with pytest.raises(Unauthenticated):
        app.keys.session(third.token, needs="read")
