"""The dashboard's overview: a page of migrations with what an operator scans for, in one
query (the latest run by a correlated subquery on the runs' (migration, id) index; open
errors and open alerts counted the same way)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from moonshift.domain.lifecycle import State
from moonshift.domain.progress import Progress
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import OverviewRecord


class OverviewStore(StoreCore):
    def overview(
        self,
        *,
        after: str | None = None,
        limit: int,
        search: str | None = None,
        state: State | None = None,
        never_ran: bool = False,
    ) -> list[OverviewRecord]:
        m, r, s, e, a = t.migrations.c, t.runs, t.schedules, t.copy_errors, t.alerts
        mine = t.runs.alias("mine")
        newest = (
            select(func.max(mine.c.id))
            .where(mine.c.migration_id == m.id)
            .correlate(t.migrations)
            .scalar_subquery()
        )
        errors = (
            select(func.count())
            .where(e.c.migration_id == m.id, e.c.status == "open")
            .correlate(t.migrations)
            .scalar_subquery()
        )
        alerts = (
            select(func.count())
            .where(a.c.migration_id == m.id, a.c.status == "open")
            .correlate(t.migrations)
            .scalar_subquery()
        )
        query: Any = (
            select(
                m.id,
                m.name,
                m.kind,
                m.enabled,
                m.tags,
                m.spec,
                r.c.id.label("run_id"),
                r.c.state,
                r.c.progress,
                s.c.next_fire_at,
                s.c.status.label("schedule_status"),
                errors.label("open_errors"),
                alerts.label("open_alerts"),
            )
            .select_from(
                t.migrations.outerjoin(r, r.c.id == newest).outerjoin(s, s.c.migration_id == m.id)
            )
            .where(m.deleted_at.is_(None))
            .order_by(m.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(m.id > after)
        if search:
            words = search.lower()
            query = query.where(
                or_(
                    m.id.contains(words, autoescape=True),
                    func.lower(m.name).contains(words, autoescape=True),
                )
            )
        if never_ran:
            query = query.where(r.c.id.is_(None))
        elif state is not None:
            query = query.where(r.c.state == state.value)
        with self._read() as conn:
            return [_record(row) for row in conn.execute(query)]


def _record(row: Any) -> OverviewRecord:
    return OverviewRecord(
        id=row.id,
        name=row.name,
        kind=row.kind,
        enabled=row.enabled,
        tags=tuple(row.tags),
        spec=row.spec,
        run_id=row.run_id,
        state=None if row.state is None else State(row.state),
        progress=None if row.progress is None else Progress.model_validate(row.progress),
        next_fire_at=row.next_fire_at,
        schedule_status=row.schedule_status,
        open_errors=int(row.open_errors or 0),
        open_alerts=int(row.open_alerts or 0),
    )
