"""Alerts: what failed, is unreachable, missed its window or has too many bad rows, sent
again on the migration's ``alerts.renotify`` schedule until someone acknowledges it (that
person and note are kept, in history too), closed when its cause is resolved."""

from __future__ import annotations

import builtins

from moonshift.app.context import Family
from moonshift.app.views import Instant, View
from moonshift.errors import InvalidInput
from moonshift.store.alerting import STATUSES
from moonshift.store.records import AlertRecord

SHOWN = ("open", "acknowledged", "closed", "all")


class Alert(View):
    id: int
    status: str  # open, acknowledged, closed
    severity: str
    cause: str  # the event that opened it: failed, unavailable, error_escalated, ...
    migration_id: str | None
    run_id: int | None
    summary: str
    opened_at: Instant
    notifications: int  # how often it was sent (the first time and every reminder)
    notified_at: Instant
    acknowledged_by: str | None
    acknowledged_at: Instant | None
    note: str | None
    closed_at: Instant | None
    closed_by: str | None  # the event that resolved it

    @classmethod
    def of(cls, record: AlertRecord) -> Alert:
        return cls.model_validate(record)


class Alerts(Family):
    def list(
        self, *, status: str | None = None, migration_id: str | None = None, limit: int = 100
    ) -> builtins.list[Alert]:
        """Alerts newest first: those not closed (``status`` None), or of one status, or
        ``all``."""
        if status is not None and status not in SHOWN:
            raise InvalidInput("status", f'unknown status "{status}"; one of {", ".join(SHOWN)}')
        statuses = (
            ("open", "acknowledged")
            if status is None
            else STATUSES
            if status == "all"
            else (status,)
        )
        found = self.store.list_alerts(statuses=statuses, migration_id=migration_id, limit=limit)
        return [Alert.of(a) for a in found]

    def get(self, alert_id: int) -> Alert:
        return Alert.of(self.store.get_alert(alert_id))

    def acknowledge(self, alert_id: int, *, actor: str, note: str | None = None) -> Alert:
        """Someone has it: no more reminders. Conflict when it was acknowledged or closed."""
        if note is not None and len(note) > 2000:
            raise InvalidInput("note", "must be at most 2000 characters")
        return Alert.of(
            self.store.acknowledge_alert(alert_id, actor=actor, note=note, now=self.ctx.clock.now())
        )
