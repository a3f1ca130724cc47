"""The copy engine's part of the state store: the error queue and rollbacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from moonshift.domain.lifecycle import State
from moonshift.domain.notices import Notice
from moonshift.errors import Conflict, NotFound
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import CopyErrorRecord, RollbackRecord

OPEN = "open"


class CopyStore(StoreCore):
    def add_copy_errors(
        self, migration_id: str, run_id: int, rows: Sequence[dict[str, Any]], *, now: datetime
    ) -> int:
        added = 0
        with self._write() as conn:
            for row in rows:
                exists = conn.execute(
                    select(t.copy_errors.c.id).where(
                        t.copy_errors.c.migration_id == migration_id,
                        t.copy_errors.c.table_name == row["table_name"],
                        t.copy_errors.c.row_key == row["row_key"],
                        t.copy_errors.c.status == OPEN,
                    )
                ).first()
                if exists:
                    continue
                conn.execute(
                    insert(t.copy_errors).values(
                        migration_id=migration_id,
                        run_id=run_id,
                        status=OPEN,
                        attempts=1,
                        created_at=now,
                        **row,
                    )
                )
                added += 1
        return added

    def copy_errors(
        self,
        migration_id: str,
        *,
        status: str | None = None,
        limit: int = 1000,
        after: int | None = None,
    ) -> list[CopyErrorRecord]:
        query = (
            select(t.copy_errors)
            .where(t.copy_errors.c.migration_id == migration_id)
            .order_by(t.copy_errors.c.id)
            .limit(limit)
        )
        if status is not None:
            query = query.where(t.copy_errors.c.status == status)
        if after is not None:
            query = query.where(t.copy_errors.c.id > after)
        with self._read() as conn:
            return [CopyErrorRecord(**row._mapping) for row in conn.execute(query)]

    def get_copy_error(self, error_id: int) -> CopyErrorRecord:
        with self._read() as conn:
            row = conn.execute(select(t.copy_errors).where(t.copy_errors.c.id == error_id)).first()
        if row is None:
            raise NotFound(f"no error {error_id} in the error queue")
        return CopyErrorRecord(**row._mapping)

    def count_copy_errors(self, migration_id: str) -> dict[str, int]:
        query = (
            select(t.copy_errors.c.status, func.count())
            .where(t.copy_errors.c.migration_id == migration_id)
            .group_by(t.copy_errors.c.status)
        )
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def open_copy_error_counts(self) -> dict[str, int]:
        query = (
            select(t.copy_errors.c.migration_id, func.count())
            .where(t.copy_errors.c.status == OPEN)
            .group_by(t.copy_errors.c.migration_id)
        )
        with self._read() as conn:
            return {migration: int(n) for migration, n in conn.execute(query)}

    def settle_copy_error(
        self,
        error_id: int,
        *,
        status: str,
        resolution: str,
        actor: str,
        now: datetime,
        message: str | None = None,
    ) -> CopyErrorRecord:
        with self._write() as conn:
            row = conn.execute(
                self._locked(conn, select(t.copy_errors).where(t.copy_errors.c.id == error_id))
            ).first()
            if row is None:
                raise NotFound(f"no error {error_id} in the error queue")
            record = CopyErrorRecord(**row._mapping)
            if record.status != OPEN:
                raise Conflict(f"error {error_id} is {record.status} already")
            values: dict[str, Any] = {"attempts": record.attempts + (status != "skipped")}
            if status == OPEN:
                values["message"] = message or record.message
            else:
                values.update(
                    status=status, resolution=resolution, resolved_by=actor, resolved_at=now
                )
            conn.execute(
                update(t.copy_errors).where(t.copy_errors.c.id == error_id).values(**values)
            )
            self._audit(
                conn,
                now=now,
                actor=actor,
                migration_id=record.migration_id,
                run_id=record.run_id,
                action=f"error {'retry failed' if status == OPEN else status}",
                reason=f"error {error_id} ({record.table_name}): {resolution}",
            )
            if status != OPEN and not self._open_errors_in(conn, record.migration_id):
                self._emit(
                    conn,
                    Notice(
                        kind="errors_cleared",
                        at=now,
                        migration_id=record.migration_id,
                        run_id=record.run_id,
                        reason=f"the error queue is clear (error {error_id} {status} last)",
                        actor=actor,
                    ),
                )
            row = conn.execute(select(t.copy_errors).where(t.copy_errors.c.id == error_id)).one()
            return CopyErrorRecord(**row._mapping)

    def _open_errors_in(self, conn: Connection, migration_id: str) -> int:
        c = t.copy_errors.c
        query = select(func.count()).where(c.migration_id == migration_id, c.status == OPEN)
        return int(conn.execute(query).scalar_one())

    def start_rollback(
        self, migration_id: str, strategy: str, *, actor: str, reason: str | None, now: datetime
    ) -> RollbackRecord:
        with self._write() as conn:
            rollback_id = conn.execute(
                insert(t.rollbacks)
                .values(
                    migration_id=migration_id,
                    strategy=strategy,
                    state="running",
                    tables=[],
                    reason=reason,
                    created_by=actor,
                    started_at=now,
                )
                .returning(t.rollbacks.c.id)
            ).scalar_one()
            self._audit(
                conn,
                now=now,
                actor=actor,
                migration_id=migration_id,
                action="rollback",
                reason=f"{strategy}: {reason or 'no reason given'}",
            )
            return self._rollback_in(conn, int(rollback_id))

    def end_rollback(
        self,
        rollback_id: int,
        *,
        state: str,
        tables: list[dict[str, Any]],
        now: datetime,
        actor: str,
    ) -> RollbackRecord:
        with self._write() as conn:
            conn.execute(
                update(t.rollbacks)
                .where(t.rollbacks.c.id == rollback_id)
                .values(state=state, tables=tables, ended_at=now)
            )
            record = self._rollback_in(conn, rollback_id)
            self._audit(
                conn,
                now=now,
                actor=actor,
                migration_id=record.migration_id,
                action=f"rollback {state}",
                reason=", ".join(
                    f"{x['table']}: {x.get('rows_before')} -> {x.get('rows_after')}" for x in tables
                )
                or None,
            )
            return record

    def rollbacks(self, migration_id: str, *, limit: int = 10) -> list[RollbackRecord]:
        query = (
            select(t.rollbacks)
            .where(t.rollbacks.c.migration_id == migration_id)
            .order_by(t.rollbacks.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [RollbackRecord(**row._mapping) for row in conn.execute(query)]

    def _rollback_in(self, conn: Any, rollback_id: int) -> RollbackRecord:
        row = conn.execute(select(t.rollbacks).where(t.rollbacks.c.id == rollback_id)).one()
        return RollbackRecord(**row._mapping)

    def active_run_of(self, migration_id: str, states: Sequence[State]) -> int | None:
        query = (
            select(t.runs.c.id)
            .where(
                and_(
                    t.runs.c.migration_id == migration_id,
                    t.runs.c.state.in_([s.value for s in states]),
                )
            )
            .order_by(t.runs.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            found = conn.execute(query).scalar()
            return None if found is None else int(found)
