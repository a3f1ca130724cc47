"""Validation's part of the state store: each validation and the divergences it found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from moonshift.domain.notices import Notice
from moonshift.errors import NotFound
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import DivergenceRecord, ValidationRecord


class ValidationStore(StoreCore):
    def start_validation(
        self, migration_id: str, run_id: int | None, *, actor: str, now: datetime
    ) -> ValidationRecord:
        with self._write() as conn:
            found = conn.execute(
                insert(t.validations).values(
                    migration_id=migration_id,
                    run_id=run_id,
                    state="running",
                    results=[],
                    created_by=actor,
                    started_at=now,
                )
            )
            key = found.inserted_primary_key
            assert key is not None
        return self.get_validation(int(key[0]))

    def end_validation(
        self,
        validation_id: int,
        *,
        state: str,
        summary: str,
        results: Sequence[dict[str, Any]],
        divergences: Sequence[dict[str, Any]],
        now: datetime,
    ) -> ValidationRecord:
        with self._write() as conn:
            conn.execute(
                update(t.validations)
                .where(t.validations.c.id == validation_id)
                .values(state=state, summary=summary, results=list(results), ended_at=now)
            )
            found = conn.execute(
                select(t.validations).where(t.validations.c.id == validation_id)
            ).one()
            self._emit(
                conn,
                Notice(
                    kind="validated",
                    at=now,
                    migration_id=found.migration_id,
                    run_id=found.run_id,
                    reason=f"validation {validation_id} {state}: {summary}",
                    actor=found.created_by,
                    details={"validation": validation_id, "state": state},
                ),
            )
            if divergences:
                conn.execute(
                    insert(t.validation_divergences),
                    [{"validation_id": validation_id, **d} for d in divergences],
                )
        return self.get_validation(validation_id)

    def get_validation(self, validation_id: int) -> ValidationRecord:
        with self._read() as conn:
            row = conn.execute(
                select(t.validations).where(t.validations.c.id == validation_id)
            ).first()
        if row is None:
            raise NotFound(f"no validation {validation_id}")
        return ValidationRecord(**row._mapping)

    def validations(self, migration_id: str, *, limit: int = 20) -> list[ValidationRecord]:
        query = (
            select(t.validations)
            .where(t.validations.c.migration_id == migration_id)
            .order_by(t.validations.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [ValidationRecord(**row._mapping) for row in conn.execute(query)]

    def divergences(
        self, validation_id: int, *, limit: int = 100, after: int | None = None
    ) -> list[DivergenceRecord]:
        d = t.validation_divergences
        query = select(d).where(d.c.validation_id == validation_id).order_by(d.c.id).limit(limit)
        if after is not None:
            query = query.where(d.c.id > after)
        with self._read() as conn:
            return [DivergenceRecord(**row._mapping) for row in conn.execute(query)]
