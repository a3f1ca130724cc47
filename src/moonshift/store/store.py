"""The state store on SQLAlchemy Core: migrations, runs, the audit log and trigger events.

Every method that changes something runs in one write transaction and writes its audit
entry in that same transaction, so the log never disagrees with the state.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from moonshift.dburl import shown
from moonshift.domain import lifecycle
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import changed_fields
from moonshift.errors import Conflict, NotFound, PreconditionFailed, Unavailable
from moonshift.store import schema as t
from moonshift.store.access import AccessStore
from moonshift.store.alerting import AlertStore
from moonshift.store.copying import CopyStore
from moonshift.store.core import _migration, _run, fields_update
from moonshift.store.engine import make_engine
from moonshift.store.listen import Waiter, announce
from moonshift.store.notifying import NotifyStore
from moonshift.store.overview import OverviewStore
from moonshift.store.planning import PlanStore
from moonshift.store.ranges import RangeStore
from moonshift.store.records import (
    AuditEntry,
    MigrationHeader,
    MigrationRecord,
    RunRecord,
    Trigger,
    TriggerEvent,
)
from moonshift.store.scheduling import NewRun, SchedulingStore
from moonshift.store.upgrade import ensure_schema
from moonshift.store.validating import ValidationStore


class DuplicateRunError(Conflict):
    """A run with the same (migration, nominal time) exists already."""


class RunActiveError(Conflict):
    """A run that must run alone was asked for while another run of its migration is active."""

    def __init__(self, run: RunRecord) -> None:
        super().__init__(f"run {run.id} of {run.migration_id} is {run.state.value}")
        self.run = run


class StateStore(
    SchedulingStore,
    CopyStore,
    AccessStore,
    NotifyStore,
    AlertStore,
    OverviewStore,
    ValidationStore,
    PlanStore,
    RangeStore,
):
    """The state store: ``EngineStore``, ``WorkerStore`` and ``AppStore`` of
    ``moonshift.seams``, where each method is documented."""

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Connect, and upgrade the schema on first use."""
        engine = make_engine(url)
        try:
            ensure_schema(engine)
        except BaseException as exc:
            engine.dispose()
            if not isinstance(exc, OperationalError):
                raise
            raise Unavailable(
                f"cannot open the state store {shown(engine.url)}: {exc.orig}"
            ) from None
        return cls(engine)

    @property
    def url(self) -> str:
        return shown(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    def announce(self) -> None:
        announce(self.engine)

    def waiter(self, stop: threading.Event) -> Waiter:
        return Waiter(self.engine, stop)

    # -- migrations ---------------------------------------------------------------------

    def apply_migration(
        self,
        spec: dict[str, Any],
        *,
        actor: str,
        now: datetime,
        source_file: str | None = None,
        expect: tuple[int, datetime] | None = None,
    ) -> tuple[MigrationRecord, str, list[str]]:
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
        values = {
            "name": spec.get("name") or spec["id"],
            "description": spec.get("description", ""),
            "kind": spec["kind"],
            "tags": list(spec.get("tags", [])),
            "spec": spec,
            "spec_hash": digest,
            "source_file": source_file,
            "updated_at": now,
        }
        with self._write() as conn:
            row = self._first(
                conn, select(t.migrations).where(t.migrations.c.id == spec["id"]), lock=True
            )
            if expect is not None and (
                row is None or (row._mapping["version"], row._mapping["updated_at"]) != expect
            ):
                raise PreconditionFailed(
                    f'migration "{spec["id"]}" changed since it was read; read it again'
                )
            if row is None:
                conn.execute(
                    insert(t.migrations).values(
                        id=spec["id"],
                        enabled=spec.get("enabled", True),
                        version=1,
                        created_at=now,
                        **values,
                    )
                )
                action, changed = "created", []
            else:
                old = row._mapping
                changed = changed_fields(old["spec"], spec)
                if old["deleted_at"] is None and old["spec_hash"] == digest:
                    return _migration(row), "unchanged", []
                action = "restored" if old["deleted_at"] is not None else "updated"
                extra: dict[str, Any] = {"deleted_at": None, "version": old["version"] + 1}
                if "enabled" in changed or action == "restored":
                    extra["enabled"] = spec.get("enabled", True)
                conn.execute(
                    update(t.migrations)
                    .where(t.migrations.c.id == spec["id"])
                    .values(**values, **extra)
                )
            record = self._migration_in(conn, spec["id"])
            self._audit(
                conn,
                now=now,
                actor=actor,
                migration_id=record.id,
                action=action,
                reason=f"version {record.version}"
                + (f" from {source_file}" if source_file else ""),
                details={"version": record.version, "changed": changed}
                if changed
                else {"version": record.version},
            )
        return record, action, changed

    def get_migration(self, migration_id: str, *, include_deleted: bool = False) -> MigrationRecord:
        with self._read() as conn:
            record = self._migration_in(conn, migration_id)
        if record.deleted_at is not None and not include_deleted:
            raise NotFound(f'no migration "{migration_id}" (it was deleted)')
        return record

    def list_migrations(self, *, include_deleted: bool = False) -> list[MigrationRecord]:
        query = select(t.migrations).order_by(t.migrations.c.id)
        if not include_deleted:
            query = query.where(t.migrations.c.deleted_at.is_(None))
        with self._read() as conn:
            return [_migration(row) for row in conn.execute(query)]

    def migration_headers(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[MigrationHeader]:
        c = t.migrations.c
        query = (
            select(c.id, c.name, c.kind, c.enabled, c.version, c.tags)
            .where(c.deleted_at.is_(None))
            .order_by(c.id)
        )
        if after is not None:
            query = query.where(c.id > after)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [
                MigrationHeader(**{**row._mapping, "tags": tuple(row.tags)})
                for row in conn.execute(query)
            ]

    def migration_versions(self) -> dict[str, int]:
        c = t.migrations.c
        query = select(c.id, c.version).where(c.deleted_at.is_(None))
        with self._read() as conn:
            return {row[0]: row[1] for row in conn.execute(query)}

    def migrations_by_id(self, migration_ids: list[str]) -> list[MigrationRecord]:
        found: list[MigrationRecord] = []
        with self._read() as conn:
            for offset in range(0, len(migration_ids), 500):
                chunk = migration_ids[offset : offset + 500]
                query = select(t.migrations).where(t.migrations.c.id.in_(chunk))
                found += [_migration(row) for row in conn.execute(query)]
        return found

    def set_enabled(
        self,
        migration_id: str,
        enabled: bool,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
    ) -> MigrationRecord:
        with self._write() as conn:
            record = self._migration_in(conn, migration_id, lock=True, live=True)
            if record.enabled == enabled:
                return record
            action = "enabled" if enabled else "disabled"
            self._change_migration(
                conn, migration_id, action, actor=actor, now=now, reason=reason, enabled=enabled
            )
            return self._migration_in(conn, migration_id)

    def delete_migration(
        self, migration_id: str, *, actor: str, now: datetime, force: bool = False
    ) -> list[int]:
        with self._write() as conn:
            self._migration_in(conn, migration_id, lock=True, live=True)
            active = [r.id for r in self._runs_in(conn, migration_id, states=lifecycle.ACTIVE)]
            if active and not force:
                raise Conflict(
                    f'migration "{migration_id}" has active runs ({", ".join(map(str, active))}); '
                    "wait for them, or delete it with force, which cancels them"
                )
            for run_id in active:
                self._transition_in(
                    conn, run_id, State.CANCELLED, actor=actor, now=now, reason="migration deleted"
                )
            details = {"cancelled_runs": active} if active else None
            self._change_migration(
                conn, migration_id, "deleted", actor=actor, now=now, details=details, deleted_at=now
            )
        return active

    def _change_migration(
        self,
        conn: Connection,
        migration_id: str,
        action: str,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        """Update a migration's row and write the audit entry that says why."""
        conn.execute(
            update(t.migrations)
            .where(t.migrations.c.id == migration_id)
            .values(updated_at=now, **values)
        )
        self._audit(
            conn,
            now=now,
            actor=actor,
            migration_id=migration_id,
            action=action,
            reason=reason,
            details=details,
        )

    # -- runs -----------------------------------------------------------------------------

    def create_run(
        self,
        migration_id: str,
        *,
        trigger: Trigger,
        nominal_time: datetime,
        actor: str,
        now: datetime,
        logical_date: datetime | None = None,
        reason: str | None = None,
        alone: bool = False,
        ignore_windows: bool = False,
    ) -> RunRecord:
        new = NewRun(
            nominal_time,
            trigger,
            logical_date=logical_date,
            reason=reason,
            ignore_windows=ignore_windows,
        )
        with self._write() as conn:
            # SQLite's write transaction starts with the write lock (BEGIN IMMEDIATE), and on
            # PostgreSQL the migration's row stays locked until the run is in: two requests
            # to run alone cannot both find no active run
            migration = self._migration_in(conn, migration_id, live=True, lock=alone)
            if alone:
                busy = self._blocking_run(conn, migration_id)
                if busy is not None:
                    raise RunActiveError(busy)
            run = self._insert_run(conn, migration_id, new, actor, now, migration)
        if run is None:
            raise DuplicateRunError(
                f'migration "{migration_id}" already has a run for {nominal_time.isoformat()}'
            )
        return run

    def _blocking_run(self, conn: Connection, migration_id: str) -> RunRecord | None:
        """The run a run that must run alone meets: one that has started and not ended
        (preparing, running, paused, validating), or another manual run not started yet.
        Queued fires and backfill runs wait behind a manual run at their gates."""
        r = t.runs.c
        waiting_manual = and_(r.trigger == Trigger.MANUAL.value, r.backfill_id.is_(None))
        query = (
            select(t.runs)
            .where(r.migration_id == migration_id)
            .where(r.state.in_([s.value for s in lifecycle.ACTIVE]))
            .where(or_(r.state != State.CREATED.value, waiting_manual))
            .order_by(r.id)
            .limit(1)
        )
        row = conn.execute(query).first()
        return None if row is None else _run(row)

    def get_run(self, run_id: int) -> RunRecord:
        with self._read() as conn:
            return self._run_in(conn, run_id)

    def list_runs(
        self,
        migration_id: str,
        *,
        limit: int = 20,
        states: Sequence[State] | None = None,
        before: int | None = None,
    ) -> list[RunRecord]:
        with self._read() as conn:
            return self._runs_in(conn, migration_id, states=states, limit=limit, before=before)

    def count_runs_by_state(self) -> dict[str, int]:
        query = select(t.runs.c.state, func.count()).group_by(t.runs.c.state)
        with self._read() as conn:
            return {state: int(n) for state, n in conn.execute(query)}

    def latest_runs(self) -> dict[str, RunRecord]:
        newest = select(func.max(t.runs.c.id)).group_by(t.runs.c.migration_id).scalar_subquery()
        with self._read() as conn:
            rows = conn.execute(select(t.runs).where(t.runs.c.id.in_(newest)))
            return {row._mapping["migration_id"]: _run(row) for row in rows}

    def transition_run(
        self,
        run_id: int,
        to: State,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        **fields: Any,
    ) -> RunRecord:
        with self._write() as conn:
            return self._transition_in(
                conn, run_id, to, actor=actor, now=now, reason=reason, **fields
            )

    def update_run(self, run_id: int, *, now: datetime, **fields: Any) -> RunRecord:
        statement = fields_update(run_id, now, fields)
        with self._write() as conn:
            conn.execute(statement)
            return self._run_in(conn, run_id)

    # -- audit log and trigger events ---------------------------------------------------

    def history(
        self, migration_id: str | None = None, *, run_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if migration_id is not None:
            query = query.where(t.audit_log.c.migration_id == migration_id)
        if run_id is not None:
            query = query.where(t.audit_log.c.run_id == run_id)
        with self._read() as conn:
            return [AuditEntry(**row._mapping) for row in conn.execute(query)]

    def record_event(
        self,
        *,
        now: datetime,
        event_type: str,
        outcome: str,
        migration_id: str | None = None,
        payload: dict[str, Any] | None = None,
        run_id: int | None = None,
        reason: str | None = None,
    ) -> TriggerEvent:
        with self._write() as conn:
            event_id = self._event(
                conn,
                now=now,
                event_type=event_type,
                outcome=outcome,
                migration_id=migration_id,
                payload=payload,
                run_id=run_id,
                reason=reason,
            )
            row = conn.execute(
                select(t.trigger_events).where(t.trigger_events.c.id == event_id)
            ).one()
            return TriggerEvent(**row._mapping)

    def get_events(self, migration_id: str | None = None, *, limit: int = 50) -> list[TriggerEvent]:
        query = select(t.trigger_events).order_by(t.trigger_events.c.id.desc()).limit(limit)
        if migration_id is not None:
            query = query.where(t.trigger_events.c.migration_id == migration_id)
        with self._read() as conn:
            return [TriggerEvent(**row._mapping) for row in conn.execute(query)]

    def get_last_event(self, migration_id: str) -> TriggerEvent | None:
        events = self.get_events(migration_id, limit=1)
        return events[0] if events else None
