"""The state store's part for alerts: list them, acknowledge one, send one again.

Alerts open and close in ``StoreCore._alerts_after``, in the transaction of the event that
opens or resolves them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from moonshift.domain.notices import Notice
from moonshift.errors import Conflict, NotFound
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import AlertRecord

STATUSES = ("open", "acknowledged", "closed")


class AlertStore(StoreCore):
    def list_alerts(
        self,
        *,
        statuses: tuple[str, ...] = ("open", "acknowledged"),
        migration_id: str | None = None,
        limit: int = 100,
    ) -> list[AlertRecord]:
        """Newest first."""
        a = t.alerts.c
        query = select(t.alerts).where(a.status.in_(statuses)).order_by(a.id.desc()).limit(limit)
        if migration_id is not None:
            query = query.where(a.migration_id == migration_id)
        with self._read() as conn:
            return [AlertRecord(**row._mapping) for row in conn.execute(query)]

    def get_alert(self, alert_id: int) -> AlertRecord:
        with self._read() as conn:
            row = conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id)).first()
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        return AlertRecord(**row._mapping)

    def acknowledge_alert(
        self, alert_id: int, *, actor: str, note: str | None, now: datetime
    ) -> AlertRecord:
        """Stop its reminders and record who (in history); Conflict unless it is open."""
        a = t.alerts.c
        with self._write() as conn:
            row = self._first(conn, select(t.alerts).where(a.id == alert_id), lock=True)
            if row is None:
                raise NotFound(f"no alert {alert_id}")
            alert = AlertRecord(**row._mapping)
            if alert.status == "acknowledged":
                raise Conflict(
                    f"alert {alert_id} was acknowledged by {alert.acknowledged_by} at "
                    f"{alert.acknowledged_at.isoformat() if alert.acknowledged_at else '-'}"
                )
            if alert.status == "closed":
                raise Conflict(f"alert {alert_id} is closed: {alert.closed_by}")
            conn.execute(
                update(t.alerts)
                .where(a.id == alert_id)
                .values(
                    status="acknowledged", acknowledged_by=actor, acknowledged_at=now, note=note
                )
            )
            self._audit(
                conn,
                now=now,
                actor=actor,
                action="alert acknowledged",
                migration_id=alert.migration_id,
                run_id=alert.run_id,
                reason=note or alert.summary,
                details={"alert_id": alert_id},
            )
            return AlertRecord(
                **conn.execute(select(t.alerts).where(a.id == alert_id)).one()._mapping
            )

    def renotify_alert(self, alert_id: int, *, now: datetime, due_before: datetime) -> bool:
        """Send an open alert again (an ``alert`` event in the outbox) if it was last sent
        before ``due_before``; False when it was not due, or not open any more."""
        a = t.alerts.c
        with self._write() as conn:
            query = select(t.alerts).where(
                a.id == alert_id, a.status == "open", a.notified_at <= due_before
            )
            row = self._first(conn, query, lock=True)
            if row is None:
                return False
            alert = AlertRecord(**row._mapping)
            conn.execute(
                update(t.alerts)
                .where(a.id == alert_id)
                .values(notified_at=now, notifications=alert.notifications + 1)
            )
            self._emit(
                conn,
                Notice(
                    kind="alert",
                    at=now,
                    migration_id=alert.migration_id,
                    run_id=alert.run_id,
                    reason=f"alert {alert.id} still open: {alert.summary}",
                    details={
                        "alert_id": alert.id,
                        "cause": alert.cause,
                        "reminder": alert.notifications,
                    },
                ),
            )
            return True
