"""Overlap policies, max_duration, commands at a window's close, retries, backfills and
events, on the simulated clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.app.runs import WindowsClosed
from moonshift.domain.lifecycle import State
from moonshift.errors import InvalidInput
from moonshift.specfile import load_text
from tests.helpers import FakeClock
from tests.scheduler.sim import make_engine, simulate

T0 = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)


def apply(app: Moonshift, clock: FakeClock, text: str) -> None:
    clock.current = T0
    for spec in load_text(text):
        app.migrations.apply_spec(spec, actor="user:test")


def play(app: Moonshift, clock: FakeClock, tmp_path: Path, minutes: int) -> None:
    engine, launcher = make_engine(app.store, clock, tmp_path)
    simulate(engine, launcher, clock, T0 + timedelta(minutes=minutes))


def starts(app: Moonshift, migration: str) -> list[tuple[int, int, str]]:
    """(minute the run started, minute it was due, its final state) for each run."""
    found = []
    for run in sorted(app.runs.list(migration, limit=1000), key=lambda r: r.id):
        started = int((run.started_at - T0).total_seconds() // 60) if run.started_at else -1
        found.append((started, int((run.nominal_time - T0).total_seconds() // 60), run.state.value))
    return found


def job(overlap: str, extra: str = "") -> str:
    return (
        f"id: j\nkind: steps\nsteps: {{count: 1, every: 25m}}\n"
        f"schedule: {{interval: 10m}}\noverlap: {overlap}\n{extra}"
    )


def test_queue_all_runs_every_fire_one_after_another(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(app, clock, job("queue_all"))
    play(app, clock, tmp_path, 60)
    assert starts(app, "j") == [
        (10, 10, "completed"),
        (35, 20, "running"),
        (-1, 30, "created"),
        (-1, 40, "created"),
        (-1, 50, "created"),
    ]


def test_queue_one_keeps_one_fire_waiting_and_skips_the_rest(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(app, clock, job("queue_one"))
    play(app, clock, tmp_path, 60)
    assert starts(app, "j") == [(10, 10, "completed"), (35, 20, "running"), (-1, 40, "created")]
    skipped = [e.reason for e in app.store.get_events("j") if e.outcome == "skipped"]
    assert len(skipped) == 2
    assert all("overlap queue_one" in (r or "") for r in skipped)


def test_skip_records_the_skipped_fires(app: Moonshift, clock: FakeClock, tmp_path: Path) -> None:
    apply(app, clock, job("skip"))
    play(app, clock, tmp_path, 60)
    assert starts(app, "j") == [(10, 10, "completed"), (40, 40, "running")]
    assert len([e for e in app.store.get_events("j") if e.outcome == "skipped"]) == 3


def test_cancel_running_stops_the_old_run(app: Moonshift, clock: FakeClock, tmp_path: Path) -> None:
    apply(app, clock, job("cancel_running"))
    play(app, clock, tmp_path, 35)
    runs = sorted(app.runs.list("j"), key=lambda r: r.id)
    assert [r.state for r in runs] == [State.CANCELLED, State.CANCELLED, State.RUNNING]
    assert runs[0].reason is not None
    assert runs[0].reason.startswith("cancelled: fire 2026-02-02T12:20:00+00:00 replaces it")


def test_allow_overlaps(app: Moonshift, clock: FakeClock, tmp_path: Path) -> None:
    apply(app, clock, job("allow"))
    play(app, clock, tmp_path, 35)
    assert [s[0] for s in starts(app, "j")] == [10, 20, 30]


def test_max_duration_stops_and_fails_the_run(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "id: j\nkind: steps\nsteps: {count: 10, every: 10m}\nschedule: {interval: 1d}\nmax_duration: 30m\n",
    )
    clock.current = T0
    app.runs.run_now("j", actor="user:test")
    play(app, clock, tmp_path, 60)
    [run] = app.runs.list("j")
    assert (run.state, run.reason) == (State.FAILED, "max_duration")
    assert run.ended_at == T0 + timedelta(minutes=30)


def test_a_command_fails_when_its_window_closes(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "id: c\nkind: command\ncommand: sleep 3600\nschedule: {cron: '0 13 * * *'}\n"
        "windows: [{name: w, start: '12:30', end: '13:20'}]\n",
    )
    play(app, clock, tmp_path, 120)
    [run] = app.runs.list("c")
    assert (run.state, run.reason) == (State.FAILED, "window_closed")
    assert run.ended_at == T0 + timedelta(minutes=80)


def test_retries_queue_a_new_attempt_after_the_backoff(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "id: j\nkind: steps\nsteps: {count: 9, every: 10m}\nmax_duration: 20m\n"
        "retries: {max: 2, backoff: 5m}\n",
    )
    app.runs.run_now("j", actor="user:test")
    play(app, clock, tmp_path, 120)
    runs = sorted(app.runs.list("j"), key=lambda r: r.id)
    assert [(r.attempt, r.state.value) for r in runs] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]
    assert [int((r.started_at - T0).total_seconds() // 60) for r in runs if r.started_at] == [
        0,
        25,
        55,
    ]
    assert runs[1].retry_of == runs[0].id


def test_backfill_runs_each_fire_with_its_logical_date_in_parallel(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "id: d\nkind: steps\nsteps: {count: 1, every: 30m}\nschedule: {cron: '0 3 * * *'}\n",
    )
    backfills = app.backfills
    plan = backfills.plan("d", date(2026, 1, 1), date(2026, 1, 5))
    assert [f.day for f in plan.fires] == [1, 2, 3, 4, 5]
    record = backfills.create(
        "d", date(2026, 1, 1), date(2026, 1, 5), parallel=2, actor="user:test", require_daemon=False
    )
    app.runs.run_now("d", actor="user:test")  # a live run: the backfill yields to it
    play(app, clock, tmp_path, 200)
    assert backfills.progress(record.id).counts == {"completed": 5}
    runs = sorted(app.runs.list("d", limit=100), key=lambda r: r.started_at or T0)
    assert runs[0].trigger.value == "MANUAL"
    assert [int((r.started_at - T0).total_seconds() // 60) for r in runs] == [0, 30, 30, 60, 60, 90]
    assert {r.logical_date for r in runs[1:]} == set(plan.fires)
    again = backfills.plan("d", date(2026, 1, 1), date(2026, 1, 5))
    assert again.runs == []
    redo = backfills.plan("d", date(2026, 1, 1), date(2026, 1, 5), reprocess="all")
    assert redo.runs == plan.fires and redo.reprocessed == 5  # each as its attempt 2


def test_backfill_refusals(app: Moonshift, clock: FakeClock) -> None:
    apply(
        app,
        clock,
        "- {id: d, kind: steps, steps: {count: 1}, schedule: {cron: '* * * * *'}}\n"
        "- {id: e, kind: steps, steps: {count: 1}, schedule: {event: {type: x}}}\n",
    )
    with pytest.raises(InvalidInput, match="more than 10000 fires"):
        app.backfills.plan("d", date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(InvalidInput, match="cannot be backfilled"):
        app.backfills.plan("e", date(2026, 1, 1), date(2026, 1, 2))
    with pytest.raises(InvalidInput, match="end: must be after start"):
        app.backfills.plan("d", date(2026, 1, 2), date(2026, 1, 1))


def test_events_match_filters_and_debounce_folds_a_burst(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "id: e\nkind: steps\nsteps: {count: 1, every: 1m}\n"
        "schedule: {event: {type: data_ready, debounce: 5m, filter: {bucket: b}}}\n",
    )
    assert (
        app.schedules.trigger_event("data_ready", {"bucket": "other"}, actor="t")[0].outcome
        == "unmatched"
    )
    outcomes = []
    for minute in (0, 1, 2):
        clock.current = T0 + timedelta(minutes=minute)
        outcomes += [
            e.outcome for e in app.schedules.trigger_event("data_ready", {"bucket": "b"}, actor="t")
        ]
    assert outcomes == ["started", "debounced", "debounced"]
    play(app, clock, tmp_path, 10)
    [run] = app.runs.list("e")
    assert (run.trigger.value, run.state.value, run.started_at) == (
        "EVENT",
        "completed",
        T0 + timedelta(minutes=5),
    )
    clock.current = T0 + timedelta(minutes=11)
    assert [
        e.outcome for e in app.schedules.trigger_event("data_ready", {"bucket": "b"}, actor="t")
    ] == ["started"]


def test_a_pool_limits_runs_across_migrations(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(
        app,
        clock,
        "".join(
            f"- {{id: p{i}, kind: steps, steps: {{count: 1, every: 10m}}, pool: warehouse}}\n"
            for i in range(3)
        ),
    )
    for i in range(3):
        app.runs.run_now(f"p{i}", actor="user:test")
    engine, launcher = make_engine(app.store, clock, tmp_path, pools={"warehouse": 2})
    simulate(engine, launcher, clock, T0 + timedelta(minutes=25))
    begun = sorted(
        int((r.started_at - T0).total_seconds() // 60)
        for i in range(3)
        for r in app.runs.list(f"p{i}")
    )
    assert begun == [0, 0, 10]


def windowed(outside_window: str, extra: str = "", window: str = "08:00-09:00") -> str:
    """Steps of a minute in a window in New York (T0 is 07:00 there, outside it)."""
    start, end = window.split("-")
    return (
        "id: w\nkind: steps\nsteps: {count: 30, every: 1m}\n"
        "schedule: {cron: '0 8 1 1 *', timezone: America/New_York}\n"
        f"windows: [{{name: morning, start: '{start}', end: '{end}'}}]\n"
        f"window_behavior: {{outside_window: {outside_window}}}\n{extra}"
    )


@pytest.mark.parametrize("outside_window", ["pause", "fail"])
def test_a_manual_run_outside_every_window_is_refused_naming_the_next_opening(
    app: Moonshift, clock: FakeClock, outside_window: str
) -> None:
    apply(app, clock, windowed(outside_window))
    with pytest.raises(WindowsClosed) as refused:
        app.runs.run_now("w", actor="user:test")
    assert str(refused.value) == (
        '"w" is outside every window at 2026-02-02 07:00 EST (12:00 UTC): the next, morning, '
        "opens at 2026-02-02 08:00 EST (13:00 UTC); start it then, or ignore its windows to "
        "run it now (no window then pauses, fails or warns it)"
    )
    assert app.runs.list("w") == []
    clock.current = T0 + timedelta(hours=1)  # 08:00 in New York: the window is open
    assert app.runs.run_now("w", actor="user:test").ignore_windows is False


def test_advisory_windows_refuse_no_manual_run(app: Moonshift, clock: FakeClock) -> None:
    apply(app, clock, windowed("continue"))
    assert app.runs.run_now("w", actor="user:test").state is State.CREATED


@pytest.mark.parametrize("outside_window", ["pause", "fail"])
def test_a_run_that_ignores_its_windows_starts_at_once_and_runs_through_a_close(
    app: Moonshift, clock: FakeClock, tmp_path: Path, outside_window: str
) -> None:
    apply(app, clock, windowed(outside_window, window="07:10-07:20"))
    run = app.runs.run_now("w", actor="user:test", ignore_windows=True)
    play(app, clock, tmp_path, 40)  # the window opens at minute 10 and closes at 20
    done = app.runs.get(run.id)
    assert (done.state, done.ignore_windows, done.warned_at) == (State.COMPLETED, True, None)
    assert (done.started_at, done.ended_at) == (T0, T0 + timedelta(minutes=30))
    steps = [e.action for e in app.runs.history("w", limit=1000)]
    assert not [s for s in steps if "window" in s or "pause" in s], steps


def test_the_retries_of_a_run_that_ignores_its_windows_ignore_them_too(
    app: Moonshift, clock: FakeClock, tmp_path: Path
) -> None:
    apply(app, clock, windowed("pause", "max_duration: 10m\nretries: {max: 1, backoff: 5m}\n"))
    app.runs.run_now("w", actor="user:test", ignore_windows=True)
    play(app, clock, tmp_path, 40)  # both attempts end before the window opens at 60
    runs = sorted(app.runs.list("w"), key=lambda r: r.id)
    assert [(r.attempt, r.state.value, r.ignore_windows) for r in runs] == [
        (1, "failed", True),
        (2, "failed", True),
    ]
    assert [r.started_at for r in runs] == [T0, T0 + timedelta(minutes=15)]
