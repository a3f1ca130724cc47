"""What every part of the state store shares: transactions, rows, audit, transitions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, Update, insert, select, update

from moonshift.domain import lifecycle, notices
from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.notices import Notice
from moonshift.domain.progress import Progress
from moonshift.errors import NotFound
from moonshift.store import schema as t
from moonshift.store.engine import WRITE
from moonshift.store.records import MigrationRecord, RunRecord, Trigger


class StoreCore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    def _locked(self, conn: Connection, query: Any) -> Any:
        return query.with_for_update() if conn.dialect.name == "postgresql" else query

    def _first(self, conn: Connection, query: Any, *, lock: bool) -> Any:
        """The first row of ``query``, locked for update when ``lock`` (on PostgreSQL)."""
        return conn.execute(self._locked(conn, query) if lock else query).first()

    def _put_named(
        self,
        table: Table,
        item_id: str,
        values: dict[str, Any],
        *,
        what: str,
        actor: str,
        now: datetime,
    ) -> tuple[Any, str]:
        """Create or update a named thing (a connection, a channel) with its audit entry;
        returns its row and created, updated or unchanged (``source_file`` alone is no
        change)."""
        query = select(table).where(table.c.id == item_id)
        with self._write() as conn:
            found = self._first(conn, query, lock=True)
            if found is None:
                conn.execute(
                    insert(table).values(id=item_id, created_at=now, updated_at=now, **values)
                )
                action = "created"
            elif all(found._mapping[k] == v for k, v in values.items() if k != "source_file"):
                return found, "unchanged"
            else:
                conn.execute(
                    update(table).where(table.c.id == item_id).values(updated_at=now, **values)
                )
                action = "updated"
            self._audit(conn, now=now, actor=actor, action=f"{what} {action}", reason=item_id)
            return conn.execute(query).one(), action

    def _migration_in(
        self, conn: Connection, migration_id: str, *, lock: bool = False, live: bool = False
    ) -> MigrationRecord:
        row = self._first(
            conn, select(t.migrations).where(t.migrations.c.id == migration_id), lock=lock
        )
        if row is None or (live and row._mapping["deleted_at"] is not None):
            raise NotFound(f'no migration "{migration_id}"')
        return _migration(row)

    def _transition_in(
        self,
        conn: Connection,
        run_id: int,
        to: State,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        **fields: Any,
    ) -> RunRecord:
        run = self._run_in(conn, run_id, lock=True)
        step = lifecycle.verb(run.state, to)
        values: dict[str, Any] = {
            "state": to.value,
            "reason": reason,
            "updated_at": now,
            **stored(fields),
        }
        if to is State.RUNNING and run.started_at is None:
            values["started_at"] = now
        if to in lifecycle.TERMINAL or to is State.COMPLETED:
            values.setdefault("ended_at", now)
        conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(**values))
        self._audit(
            conn,
            now=now,
            actor=actor,
            migration_id=run.migration_id,
            run_id=run_id,
            action=step,
            from_state=run.state,
            to_state=to,
            reason=reason,
        )
        for kind in (notices.transition_event(run.state, to), notices.side_event(to, reason)):
            if kind is not None:
                self._emit(
                    conn,
                    Notice(
                        kind=kind,
                        at=now,
                        migration_id=run.migration_id,
                        run_id=run_id,
                        reason=reason,
                        actor=actor,
                    ),
                )
        return self._run_in(conn, run_id)

    def _run_in(self, conn: Connection, run_id: int, *, lock: bool = False) -> RunRecord:
        row = self._first(conn, select(t.runs).where(t.runs.c.id == run_id), lock=lock)
        if row is None:
            raise NotFound(f"no run {run_id}")
        return _run(row)

    def _runs_in(
        self,
        conn: Connection,
        migration_id: str,
        *,
        states: Sequence[State] | frozenset[State] | None = None,
        limit: int | None = None,
        before: int | None = None,
    ) -> list[RunRecord]:
        query = (
            select(t.runs).where(t.runs.c.migration_id == migration_id).order_by(t.runs.c.id.desc())
        )
        if states is not None:
            query = query.where(t.runs.c.state.in_([s.value for s in states]))
        if before is not None:
            query = query.where(t.runs.c.id < before)
        if limit is not None:
            query = query.limit(limit)
        return [_run(row) for row in conn.execute(query)]

    def _event(
        self,
        conn: Connection,
        *,
        now: datetime,
        event_type: str,
        outcome: str,
        migration_id: str | None = None,
        payload: dict[str, Any] | None = None,
        run_id: int | None = None,
        reason: str | None = None,
    ) -> int:
        kind = notices.trigger_event(event_type, outcome)
        if kind is not None:
            actor = (payload or {}).get("actor")
            self._emit(
                conn,
                Notice(
                    kind=kind,
                    at=now,
                    migration_id=migration_id,
                    run_id=run_id,
                    reason=reason,
                    actor=actor if isinstance(actor, str) else None,
                ),
            )
        return int(
            conn.execute(
                insert(t.trigger_events)
                .values(
                    at=now,
                    migration_id=migration_id,
                    event_type=event_type,
                    payload=payload,
                    outcome=outcome,
                    run_id=run_id,
                    reason=reason,
                )
                .returning(t.trigger_events.c.id)
            ).scalar_one()
        )

    def _emit(self, conn: Connection, notice: Notice) -> int:
        """Put an event in the outbox, in the caller's transaction: THE way to notify.

        Run transitions and the scheduler's records call it already; a new kind of event
        (approval needed, validated, certified, ...) calls it in the transaction of the
        change it announces, with a kind from ``domain.notices.EVENTS``. Returns its id.
        """
        event_id = int(
            conn.execute(
                insert(t.outbox).values(**_outbox_row(notice)).returning(t.outbox.c.id)
            ).scalar_one()
        )
        self._alerts_after(conn, notice, event_id)
        return event_id

    def _alerts_after(self, conn: Connection, notice: Notice, event_id: int) -> None:
        """An event that opens an alert opens one (unless its cause has one open for the
        migration); one that resolves a cause closes its alerts. Both are in history."""
        if notice.migration_id is None:
            return
        a = t.alerts.c
        live = (a.migration_id == notice.migration_id) & (a.status != "closed")
        causes = notices.resolves(notice.kind)
        if causes:
            closing = select(a.id).where(live, a.cause.in_(sorted(causes)))
            for (alert_id,) in conn.execute(self._locked(conn, closing)).all():
                conn.execute(
                    update(t.alerts)
                    .where(a.id == alert_id)
                    .values(status="closed", closed_at=notice.at, closed_by=notice.summary)
                )
                self._alert_audit(conn, notice, "alert closed", alert_id, notice.summary)
        if notice.kind not in notices.ALERTING:
            return
        if conn.execute(select(a.id).where(live, a.cause == notice.kind)).first() is not None:
            return
        alert_id = conn.execute(
            insert(t.alerts)
            .values(
                migration_id=notice.migration_id,
                run_id=notice.run_id,
                cause=notice.kind,
                severity=notice.severity,
                summary=notice.summary,
                status="open",
                opened_at=notice.at,
                event_id=event_id,
                notified_at=notice.at,
                notifications=1,
            )
            .returning(a.id)
        ).scalar_one()
        self._alert_audit(conn, notice, "alert opened", alert_id, notice.summary)

    def _alert_audit(
        self, conn: Connection, notice: Notice, action: str, alert_id: int, reason: str
    ) -> None:
        self._audit(
            conn,
            now=notice.at,
            actor=notice.actor or "moonshift",
            action=action,
            migration_id=notice.migration_id,
            run_id=notice.run_id,
            reason=reason,
            details={"alert_id": alert_id},
        )

    def _emit_many(self, conn: Connection, found: Sequence[Notice]) -> None:
        """``_emit`` for many events at once (runs created by the hundred)."""
        plain = [n for n in found if not _touches_alerts(n)]
        if plain:
            conn.execute(insert(t.outbox), [_outbox_row(n) for n in plain])
        for notice in found:
            if _touches_alerts(notice):
                self._emit(conn, notice)

    def _audit(
        self,
        conn: Connection,
        *,
        now: datetime,
        actor: str,
        action: str,
        migration_id: str | None = None,
        run_id: int | None = None,
        from_state: State | None = None,
        to_state: State | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            insert(t.audit_log).values(
                at=now,
                actor=actor,
                migration_id=migration_id,
                run_id=run_id,
                action=action,
                from_state=from_state.value if from_state else None,
                to_state=to_state.value if to_state else None,
                reason=reason,
                details=details,
            )
        )


def _touches_alerts(notice: Notice) -> bool:
    return notice.kind in notices.ALERTING or bool(notices.resolves(notice.kind))


def _outbox_row(notice: Notice) -> dict[str, Any]:
    return {
        "at": notice.at,
        "kind": notice.kind,
        "migration_id": notice.migration_id,
        "run_id": notice.run_id,
        "reason": notice.reason,
        "actor": notice.actor,
        "details": dict(notice.details) if notice.details else None,
    }


def _migration(row: Any) -> MigrationRecord:
    values = dict(row._mapping)
    values["tags"] = tuple(values["tags"])
    return MigrationRecord(**values)


_RUN_NAMES = tuple(c.name for c in t.runs.c)


def _run(row: Any) -> RunRecord:
    """A run from a row whose first columns are the table's, in order (``select(t.runs)``,
    or a join that starts with it)."""
    return run_from(dict(zip(_RUN_NAMES, row, strict=False)))


def new_run_record(row: dict[str, Any], run_id: int) -> RunRecord:
    """The run just inserted from ``row`` as ``id``, as a read would give it back."""
    return run_from({**dict.fromkeys(_RUN_NAMES), **row, "id": run_id})


def run_from(values: dict[str, Any]) -> RunRecord:
    """A run as stored, its typed fields parsed: the one place that reads them."""
    values["state"] = State(values["state"])
    values["trigger"] = Trigger(values["trigger"])
    if values["control"] is not None:
        values["control"] = ControlRequest.model_validate(values["control"])
    if values["progress"] is not None:
        values["progress"] = Progress.model_validate(values["progress"])
    return RunRecord(**values)


def fields_update(run_id: int, now: datetime, fields: dict[str, Any]) -> Update:
    """The UPDATE of a run's fields other than its state (which moves by transition_run)."""
    if "state" in fields:
        raise ValueError("use transition_run to change a run's state")
    return update(t.runs).where(t.runs.c.id == run_id).values(updated_at=now, **stored(fields))


def stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Run fields as the store keeps them: typed values in their JSON form."""
    return {
        name: value.stored()
        if isinstance(value, ControlRequest)
        else value.model_dump(mode="json")
        if isinstance(value, Progress)
        else value
        for name, value in fields.items()
    }
