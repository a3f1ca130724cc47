"""Key ranges of a copy that workers of several daemons claim by lease.

Only who copies a range, until when, is kept here; where the range got to is the checkpoint
in the target, committed with each batch, so a range taken over from a dead worker resumes
from there and its rows are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select, update

from moonshift.domain.lifecycle import State
from moonshift.store import schema as t
from moonshift.store.core import StoreCore

_r = t.copy_ranges.c


class RangeStore(StoreCore):
    def offer_ranges(
        self,
        migration_id: str,
        copy_id: int,
        table: str,
        range_ids: Sequence[int],
        *,
        run_id: int,
    ) -> None:
        with self._write() as conn:
            known = set(
                conn.execute(
                    select(_r.range_id).where(*_of(migration_id, copy_id, table))
                ).scalars()
            )
            rows = [
                {
                    "migration_id": migration_id,
                    "copy_id": copy_id,
                    "table_name": table,
                    "range_id": rid,
                    "run_id": run_id,
                    "claims": 0,
                    "done": False,
                }
                for rid in range_ids
                if rid not in known
            ]
            if rows:
                conn.execute(insert(t.copy_ranges), rows)
            # offered again, so not done in the target (the truth): a mark left from
            # checkpoints forgotten since (a rollback) must not skip the range
            conn.execute(
                update(t.copy_ranges)
                .where(
                    *_of(migration_id, copy_id, table),
                    _r.range_id.in_(list(range_ids)),
                    _r.done.is_(True),
                )
                .values(done=False, owner=None, lease_until=None)
            )

    def claim_range(
        self,
        migration_id: str,
        copy_id: int,
        table: str,
        *,
        owner: str,
        lease_until: datetime,
        now: datetime,
    ) -> int | None:
        free = or_(_r.owner.is_(None), _r.lease_until < now)
        query = (
            select(_r.range_id)
            .where(*_of(migration_id, copy_id, table), _r.done.is_(False), free)
            .order_by(_r.range_id)
            .limit(1)
        )
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            found = conn.execute(query).scalar()
            if found is None:
                return None
            conn.execute(
                update(t.copy_ranges)
                .where(*_of(migration_id, copy_id, table), _r.range_id == found)
                .values(owner=owner, lease_until=lease_until, claims=_r.claims + 1)
            )
            return int(found)

    def renew_ranges(self, owner: str, *, lease_until: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.copy_ranges)
                .where(_r.owner == owner, _r.done.is_(False))
                .values(lease_until=lease_until)
            )

    def finish_range(
        self, migration_id: str, copy_id: int, table: str, range_id: int, *, owner: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.copy_ranges)
                .where(*_of(migration_id, copy_id, table), _r.range_id == range_id)
                .values(done=True, owner=owner, lease_until=None)
            )

    def release_ranges(self, owner: str) -> None:
        """Give back the ranges ``owner`` holds and has not finished (it stops)."""
        with self._write() as conn:
            conn.execute(
                update(t.copy_ranges)
                .where(_r.owner == owner, _r.done.is_(False))
                .values(lease_until=None, owner=None)
            )

    def ranges_left(self, migration_id: str, copy_id: int, table: str) -> int:
        query = select(func.count()).where(*_of(migration_id, copy_id, table), _r.done.is_(False))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def range_owners(self, migration_id: str, copy_id: int) -> dict[tuple[str, int], str | None]:
        """(table, range) -> who copied it last (evidence for operators and tests)."""
        query = select(_r.table_name, _r.range_id, _r.owner).where(
            _r.migration_id == migration_id, _r.copy_id == copy_id
        )
        with self._read() as conn:
            return {(row[0], int(row[1])): row[2] for row in conn.execute(query)}

    def runs_to_help(self, *, daemon_id: str, now: datetime) -> list[int]:
        query = helpable_runs(daemon_id=daemon_id, now=now).distinct()
        with self._read() as conn:
            return sorted(int(rid) for rid in conn.execute(query).scalars())


def helpable_runs(*, daemon_id: str, now: datetime) -> Select[Any]:
    """Running copies, held by other daemons, with a range nobody holds."""
    free = or_(_r.owner.is_(None), _r.lease_until < now)
    return (
        select(_r.run_id)
        .join(t.runs, t.runs.c.id == _r.run_id)
        .where(
            _r.done.is_(False),
            free,
            and_(t.runs.c.state == State.RUNNING.value, t.runs.c.lease_owner != daemon_id),
        )
    )


def _of(migration_id: str, copy_id: int, table: str) -> tuple[ColumnElement[bool], ...]:
    return (_r.migration_id == migration_id, _r.copy_id == copy_id, _r.table_name == table)
