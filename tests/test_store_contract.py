"""The state store's contract, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from moonshift.domain.lifecycle import IllegalTransitionError, State
from moonshift.errors import Conflict, NotFound
from moonshift.store import StateStore
from moonshift.store.records import Trigger
from moonshift.store.store import DuplicateRunError, RunActiveError
from tests.helpers import FakeClock

ACTOR = "user:test"


def spec(id_: str = "users", **extra: object) -> dict[str, object]:
    return {"id": id_, "kind": "command", "command": {"run": "echo hi"}, **extra}


def test_apply_creates_updates_and_leaves_unchanged(store: StateStore, clock: FakeClock) -> None:
    record, action, _ = store.apply_migration(spec(tags=["a"]), actor=ACTOR, now=clock.now())
    assert (action, record.version, record.tags, record.enabled) == ("created", 1, ("a",), True)
    clock.advance(60)
    record, action, changed = store.apply_migration(
        spec(tags=["a"], command={"run": "echo bye", "timeout": "5m"}), actor=ACTOR, now=clock.now()
    )
    assert (action, record.version, changed) == ("updated", 2, ["command.run", "command.timeout"])
    assert record.updated_at == clock.now() and record.created_at == clock.now() - timedelta(
        seconds=60
    )
    again, action, _ = store.apply_migration(
        spec(tags=["a"], command={"run": "echo bye", "timeout": "5m"}), actor=ACTOR, now=clock.now()
    )
    assert (action, again.version) == ("unchanged", 2)
    actions = [e.action for e in store.history("users")]
    assert actions == ["updated", "created"]


def test_disable_survives_reapplying_the_same_spec(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    store.set_enabled("users", False, actor="user:oncall", now=clock.now())
    record, _, _ = store.apply_migration(spec(description="new"), actor=ACTOR, now=clock.now())
    assert record.enabled is False
    record, _, changed = store.apply_migration(
        spec(description="new", enabled=False), actor=ACTOR, now=clock.now()
    )
    record, _, changed = store.apply_migration(
        spec(description="new", enabled=True), actor=ACTOR, now=clock.now()
    )
    assert changed == ["enabled"] and record.enabled is True
    entry = store.history("users")[-2]
    assert (entry.action, entry.actor) == ("disabled", "user:oncall")


def test_runs_have_a_unique_identity(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    nominal = clock.now()
    run = store.create_run(
        "users", trigger=Trigger.SCHEDULED, nominal_time=nominal, actor=ACTOR, now=nominal
    )
    assert (run.state, run.trigger, run.spec_version, run.nominal_time) == (
        State.CREATED,
        Trigger.SCHEDULED,
        1,
        nominal,
    )
    with pytest.raises(DuplicateRunError):
        store.create_run(
            "users", trigger=Trigger.MANUAL, nominal_time=nominal, actor=ACTOR, now=nominal
        )
    assert len(store.list_runs("users")) == 1


def test_only_the_lease_holder_writes_a_runs_checkpoint(
    store: StateStore, clock: FakeClock
) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    now = clock.now()
    run = store.create_run("users", trigger=Trigger.MANUAL, nominal_time=now, actor=ACTOR, now=now)
    until = clock.now() + timedelta(seconds=15)
    assert store.claim_run(run.id, owner="daemon:a", lease_until=until, now=clock.now())
    assert store.update_held_run(run.id, owner="daemon:a", now=clock.now(), checkpoint={"n": 1})
    # a worker taken over since (its lease lapsed, another claimed the run) writes nothing
    assert not store.update_held_run(run.id, owner="daemon:b", now=clock.now(), checkpoint={"n": 0})
    assert store.get_run(run.id).checkpoint == {"n": 1}
    with pytest.raises(ValueError, match="transition_run"):
        store.update_held_run(run.id, owner="daemon:a", now=clock.now(), state=State.FAILED)


def test_racing_creators_make_one_run(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    nominal, results, barrier = clock.now(), [], threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        try:
            store.create_run(
                "users", trigger=Trigger.SCHEDULED, nominal_time=nominal, actor=ACTOR, now=nominal
            )
            results.append("created")
        except DuplicateRunError:
            results.append("duplicate")

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["created"] + ["duplicate"] * 5


def test_racing_runs_that_must_run_alone_make_one(store: StateStore, clock: FakeClock) -> None:
    """Six requests at once, each at its own instant: the check for an active run and the
    insert are one step, so one run is created and five find it."""
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    results: list[str] = []
    barrier = threading.Barrier(6)

    def create(step: int) -> None:
        instant = clock.now() + timedelta(microseconds=step)
        barrier.wait()
        try:
            store.create_run(
                "users",
                trigger=Trigger.MANUAL,
                nominal_time=instant,
                actor=ACTOR,
                now=instant,
                alone=True,
            )
            results.append("created")
        except RunActiveError as exc:
            results.append(f"refused: run {exc.run.id} is {exc.run.state.value}")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (run,) = store.list_runs("users")
    assert sorted(results) == ["created"] + [f"refused: run {run.id} is created"] * 5
    # once it has ended, the next one may start (at an instant of its own: a run at the
    # winner's instant would be the same run)
    for to in (State.ANALYZING, State.CANCELLED):
        store.transition_run(run.id, to, actor=ACTOR, now=clock.now())
    later = clock.now() + timedelta(seconds=1)
    store.create_run(
        "users", trigger=Trigger.MANUAL, nominal_time=later, actor=ACTOR, now=later, alone=True
    )
    assert len(store.list_runs("users")) == 2


def test_transitions_are_audited_with_actor_time_and_reason(
    store: StateStore, clock: FakeClock
) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    run = store.create_run(
        "users", trigger=Trigger.MANUAL, nominal_time=clock.now(), actor=ACTOR, now=clock.now()
    )
    path = [
        State.ANALYZING,
        State.PLANNING,
        State.AWAITING_APPROVAL,
        State.APPROVED,
        State.RUNNING,
        State.PAUSED,
        State.RUNNING,
        State.COMPLETED,
        State.VALIDATING,
        State.CERTIFIED,
    ]
    for step, state in enumerate(path):
        clock.advance(1)
        run = store.transition_run(
            run.id, state, actor=f"actor-{step}", now=clock.now(), reason=f"why {step}"
        )
    assert run.state is State.CERTIFIED
    assert run.started_at is not None and run.ended_at == clock.now()
    entries = list(reversed(store.history(run_id=run.id)))
    assert [(e.from_state, e.to_state) for e in entries[1:]] == list(
        zip([s.value for s in [State.CREATED, *path[:-1]]], [s.value for s in path], strict=True)
    )
    assert [e.action for e in entries] == [
        "create",
        "start",
        "analyze",
        "plan",
        "approve",
        "execute",
        "pause",
        "resume",
        "complete",
        "validate",
        "certify",
    ]
    assert entries[3].actor == "actor-2" and entries[3].reason == "why 2"
    assert entries[3].at < entries[4].at


def test_illegal_transition_changes_nothing(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    run = store.create_run(
        "users", trigger=Trigger.MANUAL, nominal_time=clock.now(), actor=ACTOR, now=clock.now()
    )
    with pytest.raises(IllegalTransitionError, match="cannot move a run from created to completed"):
        store.transition_run(run.id, State.COMPLETED, actor=ACTOR, now=clock.now())
    assert store.get_run(run.id).state is State.CREATED
    assert len(store.history(run_id=run.id)) == 1


def test_delete_is_refused_while_a_run_is_active(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    run = store.create_run(
        "users", trigger=Trigger.MANUAL, nominal_time=clock.now(), actor=ACTOR, now=clock.now()
    )
    with pytest.raises(Conflict, match="has active runs"):
        store.delete_migration("users", actor=ACTOR, now=clock.now())
    assert store.get_migration("users").deleted_at is None
    assert store.delete_migration("users", actor=ACTOR, now=clock.now(), force=True) == [run.id]
    assert store.get_run(run.id).state is State.CANCELLED
    with pytest.raises(NotFound):
        store.get_migration("users")
    assert [m.id for m in store.list_migrations()] == []


def test_a_deleted_migration_keeps_runs_and_history_and_can_be_restored(
    store: StateStore, clock: FakeClock
) -> None:
    store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    nominal = clock.now()
    store.create_run(
        "users", trigger=Trigger.SCHEDULED, nominal_time=nominal, actor=ACTOR, now=nominal
    )
    store.delete_migration("users", actor=ACTOR, now=clock.now(), force=True)
    record, action, _ = store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    assert (action, record.version, record.deleted_at) == ("restored", 2, None)
    with pytest.raises(DuplicateRunError):
        store.create_run(
            "users", trigger=Trigger.SCHEDULED, nominal_time=nominal, actor=ACTOR, now=nominal
        )
    assert [e.action for e in store.history("users")][:2] == ["restored", "deleted"]


def test_latest_runs_and_unknown_ids(store: StateStore, clock: FakeClock) -> None:
    store.apply_migration(spec("a"), actor=ACTOR, now=clock.now())
    store.apply_migration(spec("b"), actor=ACTOR, now=clock.now())
    for _ in range(3):
        last = store.create_run(
            "a", trigger=Trigger.MANUAL, nominal_time=clock.advance(1), actor=ACTOR, now=clock.now()
        )
    assert {k: v.id for k, v in store.latest_runs().items()} == {"a": last.id}
    with pytest.raises(NotFound, match='no migration "zzz"'):
        store.create_run(
            "zzz", trigger=Trigger.MANUAL, nominal_time=clock.now(), actor=ACTOR, now=clock.now()
        )
    with pytest.raises(NotFound, match="no run 999"):
        store.get_run(999)


def test_trigger_events(store: StateStore, clock: FakeClock) -> None:
    store.record_event(
        now=clock.now(),
        event_type="orders.loaded",
        outcome="started",
        migration_id="a",
        payload={"rows": 3},
        run_id=1,
    )
    store.record_event(
        now=clock.advance(5),
        event_type="SCHEDULED",
        outcome="dropped",
        migration_id="a",
        reason="misfire grace exceeded",
    )
    last = store.get_last_event("a")
    assert last is not None and (last.outcome, last.reason) == ("dropped", "misfire grace exceeded")
    assert [e.payload for e in store.get_events("a")] == [None, {"rows": 3}]


def test_instants_come_back_aware_in_utc(store: StateStore, clock: FakeClock) -> None:
    record, _, _ = store.apply_migration(spec(), actor=ACTOR, now=clock.now())
    assert record.created_at == clock.now() and record.created_at.utcoffset() == timedelta(0)
