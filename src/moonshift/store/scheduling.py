"""The scheduler's queries: schedules, due fires, queued runs, leases and daemons.

Correctness lives in the database: a fire becomes a run through an insert that the unique
(migration, nominal time, attempt) constraint lets happen once; due schedules are claimed
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has one writer at a time); a run is
claimed by a compare-and-set on its lease.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Insert,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)

from moonshift.domain import lifecycle, notices
from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.notices import Notice
from moonshift.errors import NotFound
from moonshift.store import schema as t
from moonshift.store.bulk import dialect, insert_new, one_of, reserve_ids, update_by_key
from moonshift.store.core import StoreCore, _run, fields_update, new_run_record
from moonshift.store.ranges import helpable_runs
from moonshift.store.records import (
    BackfillRecord,
    DaemonRecord,
    Glance,
    MigrationRecord,
    RunRecord,
    ScheduleRecord,
    ScheduleStatus,
    Trigger,
)
from moonshift.store.types import UTCDateTime

At = datetime | ColumnElement[datetime]  # an instant, or the parameter that will be one
# Values in one IN (...) list, well under SQLite's and PostgreSQL's limits on parameters.
IN_LIST = 2500


@dataclass(frozen=True)
class NewRun:
    nominal_time: datetime
    trigger: Trigger
    logical_date: datetime | None = None
    not_before: datetime | None = None
    attempt: int = 1
    retry_of: int | None = None
    reason: str | None = None
    backfill_id: int | None = None
    ignore_windows: bool = False  # a manual run started outside its windows on purpose


@dataclass(frozen=True)
class Waiting:
    """Why a queued run has not started, and when to look at it again."""

    run_id: int
    waiting_for: str | None
    not_before: datetime | None


class DueBatch:
    """Due schedules claimed in one write transaction. ``fire`` says what became of each;
    everything is written in bulk when the claim ends, in that same transaction."""

    def __init__(self, store: SchedulingStore, conn: Connection, now: datetime) -> None:
        self._store, self._conn, self._now = store, conn, now
        self.items: list[tuple[ScheduleRecord, MigrationRecord]] = []
        self._migrations: dict[str, MigrationRecord] = {}
        self._runs: list[tuple[str, NewRun, str]] = []
        self._rows: list[dict[str, Any]] | None = None  # of ``_runs``, once their ids are known
        self._events: list[dict[str, Any]] = []
        self._schedules: list[dict[str, Any]] = []
        self.created: list[int] = []  # the runs inserted, once written

    def fire(
        self,
        schedule: ScheduleRecord,
        *,
        runs: Sequence[NewRun],
        dropped: Sequence[tuple[datetime, str]],
        skipped: Sequence[tuple[datetime, str]] = (),
        next_fire_at: datetime | None,
        last_fire_at: datetime | None,
        actor: str,
        completed: bool = False,
    ) -> None:
        """Record a schedule's fires: runs to create (each at most once), fires dropped or
        skipped, and where the schedule moves on to."""
        self._runs += [(schedule.migration_id, new, actor) for new in runs]
        for outcome, fires in (("dropped", dropped), ("skipped", skipped)):
            self._events += [
                {
                    "at": self._now,
                    "migration_id": schedule.migration_id,
                    "event_type": "SCHEDULED",
                    "payload": None,
                    "outcome": outcome,
                    "run_id": None,
                    "reason": f"{nominal.isoformat()}: {reason}",
                }
                for nominal, reason in fires
            ]
        status = ScheduleStatus.COMPLETED if completed else schedule.status
        self._schedules.append(
            {
                "migration_id": schedule.migration_id,
                "next_fire_at": next_fire_at,
                "last_fire_at": last_fire_at,
                "status": status.value,
                "updated_at": self._now,
            }
        )

    def control(self, run_id: int, request: ControlRequest) -> None:
        self._conn.execute(
            update(t.runs)
            .where(t.runs.c.id == run_id)
            .values(control=request.stored(), updated_at=self._now)
        )

    def pending(self) -> list[tuple[RunRecord, MigrationRecord]]:
        """The runs recorded so far, as they will be stored (their ids reserved), for the
        engine to gate before they are written: those it ``claim``s are inserted claimed,
        those that ``wait`` with their reason. Record no more fires after this."""
        return [
            (new_run_record(row, row["id"]), self._migrations[row["migration_id"]])
            for row in self._run_rows()
        ]

    def claim(self, run_ids: Sequence[int], *, owner: str, lease_until: datetime) -> None:
        """Insert these pending runs held by ``owner`` for a worker (no later claim)."""
        chosen = set(run_ids)
        for row in self._run_rows():
            if row["id"] in chosen:
                row.update(lease_owner=owner, lease_expires_at=lease_until, heartbeat_at=self._now)

    def wait(self, waits: Sequence[Waiting]) -> None:
        """Insert these pending runs with why they wait."""
        by_id = {w.run_id: w for w in waits}
        for row in self._run_rows():
            if (w := by_id.get(row["id"])) is not None:
                row.update(waiting_for=w.waiting_for, not_before=w.not_before)

    def _run_rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            ids = reserve_ids(self._conn, t.runs, len(self._runs))
            self._rows = [
                {"id": run_id, **self._run_row(mid, new, actor)}
                for run_id, (mid, new, actor) in zip(ids, self._runs, strict=True)
            ]
        return self._rows

    def flush(self) -> list[int]:
        """Write what was recorded, a few statements for the whole batch; returns the ids of
        the runs created."""
        created = self._insert_runs()
        if self._events:
            self._conn.execute(insert(t.trigger_events), self._events)
            self._store._emit_many(
                self._conn,
                [
                    Notice(
                        kind=kind,
                        at=event["at"],
                        migration_id=event["migration_id"],
                        reason=event["reason"],
                    )
                    for event in self._events
                    if (kind := notices.trigger_event(event["event_type"], event["outcome"]))
                ],
            )
        update_by_key(self._conn, t.schedules, "migration_id", self._schedules)
        return created

    def _insert_runs(self) -> list[int]:
        """One insert of every fire's run (a fire that has its run already is left alone by
        the unique constraint) with their audit entries and outbox events."""
        rows = self._run_rows()
        said = {  # runs whose creation has a reason of its own: announced one by one
            row["id"]: (mid, new, actor)
            for (mid, new, actor), row in zip(self._runs, rows, strict=True)
            if new.reason is not None
        }
        found = insert_new(
            self._conn,
            t.runs,
            rows,
            [t.runs.c.id],
            lambda new: _announce_created(new, self._now, besides=list(said)),
        )
        self.created = created = sorted(row[0] for row in found)
        said = {run_id: said[run_id] for run_id in created if run_id in said}
        for run_id, (mid, new, actor) in said.items():
            self._store._audit(
                self._conn,
                now=self._now,
                actor=actor,
                migration_id=mid,
                run_id=run_id,
                action="create",
                to_state=State.CREATED,
                reason=new.reason,
            )
            audit = {"at": self._now, "actor": actor, "migration_id": mid, "run_id": run_id}
            self._store._emit(self._conn, _created({**audit, "reason": new.reason}))
        return created

    def _run_row(self, migration_id: str, new: NewRun, actor: str) -> dict[str, Any]:
        migration = self._migrations[migration_id]
        return {
            "migration_id": migration_id,
            "spec_version": migration.version,
            "trigger": new.trigger.value,
            "nominal_time": new.nominal_time,
            "logical_date": new.logical_date,
            "state": State.CREATED.value,
            "attempt": new.attempt,
            "retry_of": new.retry_of,
            "created_by": actor,
            "created_at": self._now,
            "updated_at": self._now,
            "pool": migration.spec.get("pool"),
            "not_before": new.not_before,
            "backfill_id": new.backfill_id,
            "ignore_windows": new.ignore_windows,
            "lease_owner": None,
            "lease_expires_at": None,
            "heartbeat_at": None,
            "waiting_for": None,
        }


class SchedulingStore(StoreCore):
    # -- schedules ------------------------------------------------------------------------

    def put_schedule(
        self,
        migration_id: str,
        *,
        status: ScheduleStatus,
        next_fire_at: datetime | None,
        spec_version: int,
        now: datetime,
        keep_last_fire: bool = True,
    ) -> ScheduleRecord:
        with self._write() as conn:
            row = self._first(
                conn,
                select(t.schedules).where(t.schedules.c.migration_id == migration_id),
                lock=True,
            )
            values = {
                "status": status.value,
                "next_fire_at": next_fire_at,
                "spec_version": spec_version,
                "updated_at": now,
            }
            if row is None:
                conn.execute(
                    t.schedules.insert().values(
                        migration_id=migration_id, last_fire_at=None, **values
                    )
                )
            else:
                if not keep_last_fire:
                    values["last_fire_at"] = None
                conn.execute(
                    update(t.schedules)
                    .where(t.schedules.c.migration_id == migration_id)
                    .values(**values)
                )
            return self._schedule_in(conn, migration_id)

    def drop_schedule(self, migration_id: str) -> None:
        with self._write() as conn:
            conn.execute(delete(t.schedules).where(t.schedules.c.migration_id == migration_id))

    def get_schedule(self, migration_id: str) -> ScheduleRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(t.schedules).where(t.schedules.c.migration_id == migration_id)
            ).first()
            return _schedule(row) if row else None

    def list_schedules(self, status: ScheduleStatus | None = None) -> list[ScheduleRecord]:
        query = select(t.schedules).order_by(t.schedules.c.migration_id)
        if status is not None:
            query = query.where(t.schedules.c.status == status.value)
        with self._read() as conn:
            return [_schedule(row) for row in conn.execute(query)]

    def schedule_times(
        self, changed_since: datetime | None = None
    ) -> list[tuple[str, datetime | None, str]]:
        query = select(t.schedules.c.migration_id, t.schedules.c.next_fire_at, t.schedules.c.status)
        if changed_since is not None:
            query = query.where(t.schedules.c.updated_at > changed_since)
        with self._read() as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(query)]

    def schedules_changed_at(self) -> datetime | None:
        with self._read() as conn:
            return conn.execute(select(func.max(t.schedules.c.updated_at))).scalar()

    def fires_between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        query = select(t.schedules.c.migration_id, t.schedules.c.next_fire_at).where(
            t.schedules.c.status == ScheduleStatus.ACTIVE.value,
            t.schedules.c.next_fire_at > start,
            t.schedules.c.next_fire_at <= end,
        )
        with self._read() as conn:
            return [(r[0], r[1]) for r in conn.execute(query)]

    def migrations_changed_at(self) -> datetime | None:
        with self._read() as conn:
            return conn.execute(select(func.max(t.migrations.c.updated_at))).scalar()

    @contextmanager
    def claim_due(self, now: datetime, *, limit: int = 500) -> Iterator[DueBatch]:
        with self._write() as conn:
            query = (
                select(t.schedules, t.migrations)
                .join(t.migrations, t.migrations.c.id == t.schedules.c.migration_id)
                .where(t.schedules.c.status == ScheduleStatus.ACTIVE.value)
                .where(t.schedules.c.next_fire_at <= now)
                .order_by(t.schedules.c.next_fire_at)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=t.schedules)
            batch = DueBatch(self, conn, now)
            for row in conn.execute(query):
                schedule = _schedule(row)
                migration = _migration_at(row, len(t.schedules.c))
                batch.items.append((schedule, migration))
                batch._migrations[migration.id] = migration
            yield batch
            batch.flush()

    def _schedule_in(self, conn: Connection, migration_id: str) -> ScheduleRecord:
        row = conn.execute(
            select(t.schedules).where(t.schedules.c.migration_id == migration_id)
        ).one()
        return _schedule(row)

    # -- runs the scheduler creates and starts ------------------------------------------

    def add_runs(
        self, migration_id: str, runs: Sequence[NewRun], *, actor: str, now: datetime
    ) -> list[RunRecord]:
        with self._write() as conn:
            self._migration_in(conn, migration_id, live=True)
            return [
                run
                for new in runs
                if (run := self._insert_run(conn, migration_id, new, actor, now))
            ]

    def _insert_run(
        self,
        conn: Connection,
        migration_id: str,
        new: NewRun,
        actor: str,
        now: datetime,
        migration: MigrationRecord | None = None,
    ) -> RunRecord | None:
        run_id = self._insert_run_id(conn, migration_id, new, actor, now, migration)
        return None if run_id is None else self._run_in(conn, run_id)

    def _insert_run_id(
        self,
        conn: Connection,
        migration_id: str,
        new: NewRun,
        actor: str,
        now: datetime,
        migration: MigrationRecord | None = None,
    ) -> int | None:
        """Insert a run unless its identity exists (then None), with its audit entry."""
        migration = migration or self._migration_in(conn, migration_id)
        insert = dialect(conn).insert
        statement = (
            insert(t.runs)
            .values(
                migration_id=migration_id,
                spec_version=migration.version,
                trigger=new.trigger.value,
                nominal_time=new.nominal_time,
                logical_date=new.logical_date,
                state=State.CREATED.value,
                attempt=new.attempt,
                retry_of=new.retry_of,
                created_by=actor,
                created_at=now,
                updated_at=now,
                pool=migration.spec.get("pool"),
                not_before=new.not_before,
                backfill_id=new.backfill_id,
                ignore_windows=new.ignore_windows,
            )
            .on_conflict_do_nothing()
            .returning(t.runs.c.id)
        )
        run_id: int | None = conn.execute(statement).scalar()
        if run_id is not None:
            audit: dict[str, Any] = {
                "at": now,
                "actor": actor,
                "migration_id": migration_id,
                "run_id": run_id,
                "reason": new.reason or new.trigger.value.lower(),
            }
            self._audit(
                conn,
                now=now,
                actor=actor,
                migration_id=migration_id,
                run_id=run_id,
                action="create",
                to_state=State.CREATED,
                reason=audit["reason"],
            )
            self._emit(conn, _created(audit))
        return run_id

    def glance(self, now: datetime, *, daemon_id: str) -> Glance:
        with self._read() as conn:
            row = conn.execute(_GLANCE, {"now": now, "daemon_id": daemon_id}).one()
        return Glance(
            schedules_changed_at=row[0],
            leases_expired=bool(row[1]),
            holding=bool(row[2]),
            runnable=bool(row[3]),
            next_not_before=row[4],
            help_wanted=bool(row[5]),
        )

    def runnable(
        self,
        now: datetime,
        *,
        limit: int = 1000,
        after: tuple[datetime, int] | None = None,
        besides: Sequence[int] = (),
    ) -> list[tuple[RunRecord, MigrationRecord]]:
        query = (
            select(t.runs, t.migrations)
            .join(t.migrations, t.migrations.c.id == t.runs.c.migration_id)
            .where(_runnable(now))
            .order_by(t.runs.c.nominal_time, t.runs.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(t.runs.c.nominal_time, t.runs.c.id) > tuple_(*after))
        with self._read() as conn:
            if besides:
                query = query.where(~one_of(conn, t.runs.c.id, besides))
            return [(_run(row), _migration_at(row, len(t.runs.c))) for row in conn.execute(query)]

    def active_runs(
        self, migration_ids: Sequence[str] | None = None, *, besides: Sequence[int] = ()
    ) -> list[RunRecord]:
        query = select(t.runs).where(t.runs.c.state.in_([s.value for s in lifecycle.ACTIVE]))
        found: list[RunRecord] = []
        with self._read() as conn:
            if besides:
                query = query.where(~one_of(conn, t.runs.c.id, besides))
            if migration_ids is None:
                return [_run(row) for row in conn.execute(query.order_by(t.runs.c.id))]
            ids = list(migration_ids)
            for offset in range(0, len(ids), IN_LIST):
                chunk = query.where(
                    one_of(conn, t.runs.c.migration_id, ids[offset : offset + IN_LIST])
                )
                found += [_run(row) for row in conn.execute(chunk.order_by(t.runs.c.id))]
        return found

    def working_runs(self) -> list[RunRecord]:
        query = select(t.runs).where(_holding_worker())
        with self._read() as conn:
            return [_run(row) for row in conn.execute(query.order_by(t.runs.c.id))]

    def next_not_before(self, now: datetime) -> datetime | None:
        query = select(func.min(t.runs.c.not_before)).where(_waiting_later(now))
        with self._read() as conn:
            return conn.execute(query).scalar()

    def latest_run_at_or_before(self, migration_id: str, nominal: datetime) -> RunRecord | None:
        query = (
            select(t.runs)
            .where(t.runs.c.migration_id == migration_id, t.runs.c.nominal_time <= nominal)
            .order_by(t.runs.c.nominal_time.desc(), t.runs.c.attempt.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
            return _run(row) if row else None

    def claim_run(self, run_id: int, *, owner: str, lease_until: datetime, now: datetime) -> bool:
        return run_id in self.claim_runs([run_id], owner=owner, lease_until=lease_until, now=now)

    def claim_runs(
        self, run_ids: Sequence[int], *, owner: str, lease_until: datetime, now: datetime
    ) -> set[int]:
        claimed: set[int] = set()
        if not run_ids:
            return claimed
        with self._write() as conn:
            for offset in range(0, len(run_ids), IN_LIST):
                result = conn.execute(
                    update(t.runs)
                    .where(one_of(conn, t.runs.c.id, run_ids[offset : offset + IN_LIST]))
                    .where(t.runs.c.state.in_([s.value for s in lifecycle.DISPATCHABLE]))
                    .where(or_(t.runs.c.lease_owner.is_(None), t.runs.c.lease_expires_at < now))
                    .values(
                        lease_owner=owner,
                        lease_expires_at=lease_until,
                        heartbeat_at=now,
                        waiting_for=None,
                        updated_at=now,
                    )
                    .returning(t.runs.c.id)
                )
                claimed |= {row[0] for row in result}
        return claimed

    def requeue_run(
        self,
        run_id: int,
        *,
        lost: tuple[str | None, datetime | None],
        reason: str,
        actor: str,
        now: datetime,
    ) -> bool:
        """Let go of a run a lost worker left preparing, for the next worker to prepare it
        again; False when it moved on or someone holds it again meanwhile."""
        with self._write() as conn:
            run = self._run_in(conn, run_id, lock=True)
            held = (run.lease_owner, run.lease_expires_at)
            if run.state not in lifecycle.PREPARING or held != lost:
                return False
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    worker_pid=None,
                    not_before=None,
                    updated_at=now,
                )
            )
            self._audit(
                conn,
                now=now,
                actor=actor,
                action="requeue",
                migration_id=run.migration_id,
                run_id=run_id,
                from_state=run.state,
                to_state=run.state,
                reason=reason,
            )
            return True

    def release_run(self, run_id: int, *, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(lease_owner=None, lease_expires_at=None, worker_pid=None, updated_at=now)
            )

    def renew_lease(self, run_id: int, *, owner: str, lease_until: datetime, now: datetime) -> bool:
        with self._write() as conn:
            result = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.lease_owner == owner)
                .values(lease_expires_at=lease_until, heartbeat_at=now)
            )
            return result.rowcount == 1

    def update_held_run(self, run_id: int, *, owner: str, now: datetime, **fields: Any) -> bool:
        statement = fields_update(run_id, now, fields).where(t.runs.c.lease_owner == owner)
        with self._write() as conn:
            return conn.execute(statement).rowcount == 1

    def expired_leases(self, now: datetime) -> list[RunRecord]:
        query = select(t.runs).where(_lease_expired(now))
        with self._read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def set_waiting(self, waits: Sequence[Waiting], *, now: datetime) -> None:
        if not waits:
            return
        with self._write() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == bindparam("b_id"))
                .values(
                    waiting_for=bindparam("b_for"),
                    not_before=bindparam("b_not_before"),
                    updated_at=now,
                ),
                [
                    {"b_id": w.run_id, "b_for": w.waiting_for, "b_not_before": w.not_before}
                    for w in waits
                ],
            )

    def request_control(
        self, run_id: int, request: ControlRequest, *, now: datetime, unless_asked: bool = False
    ) -> bool:
        with self._write() as conn:
            # read under the row's lock: a cleared control is stored as JSON null, which
            # no SQL condition on the column tells from a request on every engine alike
            if unless_asked and self._run_in(conn, run_id, lock=True).control is not None:
                return False
            done = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(control=request.stored(), updated_at=now)
            )
            return bool(done.rowcount)

    def count_pool(self, pool: str) -> int:
        query = (
            select(func.count())
            .select_from(t.runs)
            .where(t.runs.c.pool == pool, t.runs.c.state.in_([s.value for s in lifecycle.WORKING]))
            .where(t.runs.c.lease_owner.is_not(None))
        )
        with self._read() as conn:
            return int(conn.execute(query).scalar() or 0)

    # -- backfills ------------------------------------------------------------------------

    def latest_attempts(
        self, migration_id: str, start: datetime, end: datetime
    ) -> dict[datetime, RunRecord]:
        query = (
            select(t.runs)
            .where(t.runs.c.migration_id == migration_id)
            .where(t.runs.c.nominal_time >= start, t.runs.c.nominal_time < end)
            .order_by(t.runs.c.nominal_time, t.runs.c.attempt)
        )
        with self._read() as conn:
            return {r.nominal_time: r for r in (_run(row) for row in conn.execute(query))}

    def create_backfill(
        self,
        migration_id: str,
        *,
        start: datetime,
        end: datetime,
        reprocess: str,
        parallel: int,
        runs: Sequence[NewRun],
        actor: str,
        now: datetime,
    ) -> tuple[BackfillRecord, list[RunRecord]]:
        with self._write() as conn:
            self._migration_in(conn, migration_id, live=True)
            backfill_id = conn.execute(
                t.backfills.insert()
                .values(
                    migration_id=migration_id,
                    start=start,
                    end=end,
                    reprocess=reprocess,
                    parallel=parallel,
                    runs=len(runs),
                    created_by=actor,
                    created_at=now,
                )
                .returning(t.backfills.c.id)
            ).scalar_one()
            created = [
                run
                for new in runs
                if (
                    run := self._insert_run(
                        conn, migration_id, replace(new, backfill_id=backfill_id), actor, now
                    )
                )
            ]
            return self._backfill_in(conn, backfill_id), created

    def get_backfill(self, backfill_id: int) -> BackfillRecord:
        with self._read() as conn:
            return self._backfill_in(conn, backfill_id)

    def backfill_counts(self, backfill_id: int) -> dict[str, int]:
        query = (
            select(t.runs.c.state, func.count())
            .where(t.runs.c.backfill_id == backfill_id)
            .group_by(t.runs.c.state)
        )
        with self._read() as conn:
            return {state: int(count) for state, count in conn.execute(query)}

    def _backfill_in(self, conn: Connection, backfill_id: int) -> BackfillRecord:
        row = conn.execute(select(t.backfills).where(t.backfills.c.id == backfill_id)).first()
        if row is None:
            raise NotFound(f"no backfill {backfill_id}")
        return BackfillRecord(**row._mapping)

    # -- daemons --------------------------------------------------------------------------

    def register_daemon(self, daemon_id: str, *, host: str, pid: int, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(delete(t.daemons).where(t.daemons.c.id == daemon_id))
            conn.execute(
                t.daemons.insert().values(
                    id=daemon_id,
                    host=host,
                    pid=pid,
                    started_at=now,
                    heartbeat_at=now,
                    stopping=False,
                )
            )

    def daemon_heartbeat(self, daemon_id: str, *, now: datetime, stopping: bool = False) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.daemons)
                .where(t.daemons.c.id == daemon_id)
                .values(heartbeat_at=now, stopping=stopping)
            )

    def remove_daemon(self, daemon_id: str) -> None:
        with self._write() as conn:
            conn.execute(delete(t.daemons).where(t.daemons.c.id == daemon_id))

    def live_daemons(self, now: datetime, *, within_seconds: float = 30) -> list[DaemonRecord]:
        from datetime import timedelta

        query = select(t.daemons).where(
            t.daemons.c.heartbeat_at >= now - timedelta(seconds=within_seconds)
        )
        with self._read() as conn:
            return [DaemonRecord(**row._mapping) for row in conn.execute(query)]


# What a daemon asks of runs, each in one place: ``glance`` asks all at once whether any
# run answers, and the engine reads those that do.


def _runnable(now: At) -> ColumnElement[bool]:
    """Queued runs whose time has come, and paused runs set to resume, held by nobody."""
    r = t.runs.c
    return and_(
        or_(
            r.state.in_([s.value for s in lifecycle.DISPATCHABLE if s is not State.PAUSED]),
            # a paused run resumes on its own only when its pause set not_before
            and_(r.state == State.PAUSED.value, r.not_before.is_not(None)),
        ),
        or_(r.not_before.is_(None), r.not_before <= now),
        or_(r.lease_owner.is_(None), r.lease_expires_at < now),
    )


def _holding_worker() -> ColumnElement[bool]:
    r = t.runs.c
    return and_(
        # a queued or paused run that a daemon claimed holds a worker that is starting
        r.state.in_([s.value for s in lifecycle.WORKING | {State.CREATED, State.PAUSED}]),
        # an approved run (or one sent back to planning) waits for a worker: none holds it
        r.lease_owner.is_not(None),
    )


def _lease_expired(now: At) -> ColumnElement[bool]:
    r = t.runs.c
    return and_(
        r.state.in_([s.value for s in lifecycle.WORKING]),
        r.lease_expires_at.is_not(None),
        r.lease_expires_at < now,
    )


def _waiting_later(now: At) -> ColumnElement[bool]:
    r = t.runs.c
    return and_(r.state.in_([State.CREATED.value, State.PAUSED.value]), r.not_before > now)


def _glance() -> Select[Any]:
    """Built once, for the statement a daemon sends at every wake-up."""
    now = bindparam("now", type_=UTCDateTime)
    daemon_id = bindparam("daemon_id", type_=String)
    return select(
        select(func.max(t.schedules.c.updated_at)).scalar_subquery(),
        exists().where(_lease_expired(now)),
        exists().where(_holding_worker()),
        exists().where(_runnable(now)),
        select(func.min(t.runs.c.not_before)).where(_waiting_later(now)).scalar_subquery(),
        exists(helpable_runs(daemon_id=daemon_id, now=now)),
    )


_GLANCE = _glance()
_SCHEDULE_NAMES = tuple(c.name for c in t.schedules.c)
_MIGRATION_NAMES = tuple(c.name for c in t.migrations.c)


def _schedule(row: Any) -> ScheduleRecord:
    """A schedule from a row whose first columns are the table's, in order."""
    values = dict(zip(_SCHEDULE_NAMES, row, strict=False))
    values["status"] = ScheduleStatus(values["status"])
    return ScheduleRecord(**values)


def _migration_at(row: Any, offset: int) -> MigrationRecord:
    """The migration whose columns start at ``offset`` in a joined row."""
    values = dict(zip(_MIGRATION_NAMES, row[offset:], strict=False))
    values["tags"] = tuple(values["tags"])
    return MigrationRecord(**values)


def _announce_created(new: FromClause, now: datetime, *, besides: list[int]) -> list[Insert]:
    """The audit entries and outbox events of the runs ``new`` (just inserted) but
    ``besides``, whose reason is their trigger's name, as ``_created`` makes them."""
    at, reason = literal(now, UTCDateTime), func.lower(new.c.trigger)
    mine = new.c.id.not_in(besides) if besides else true()
    return [
        insert(t.audit_log).from_select(
            ["at", "actor", "migration_id", "run_id", "action", "to_state", "reason"],
            select(
                at,
                new.c.created_by,
                new.c.migration_id,
                new.c.id,
                literal("create"),
                literal(State.CREATED.value),
                reason,
            )
            .where(mine)
            .order_by(new.c.id),
        ),
        insert(t.outbox).from_select(
            ["at", "kind", "migration_id", "run_id", "reason", "actor"],
            select(at, literal("created"), new.c.migration_id, new.c.id, reason, new.c.created_by)
            .where(mine)
            .order_by(new.c.id),
        ),
    ]


def _created(audit: dict[str, Any]) -> Notice:
    """The outbox's event for a run created (as its audit entry says)."""
    return Notice(
        kind="created",
        at=audit["at"],
        migration_id=audit["migration_id"],
        run_id=audit["run_id"],
        reason=audit["reason"],
        actor=audit["actor"],
    )
