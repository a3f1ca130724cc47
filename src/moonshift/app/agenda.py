"""What is coming, for a calendar: each migration's next runs and window openings, in its own
time zone, each with a UID that stays the same on every refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain.spec import MigrationSpec
from moonshift.timing import StartAction, plan_next

PER_MIGRATION = 60
# A run has no end we know of before it runs: it shows as long as max_duration, or this.
RUN_SHOWN_FOR = timedelta(minutes=30)


def _uid(migration_id: str, kind: str, at: datetime) -> str:
    return f"{migration_id}.{kind}.{at.astimezone(UTC):%Y%m%dT%H%M%SZ}@moonshift"


class Agenda(Family):
    def upcoming(self, days: int = 31) -> views.Agenda:
        """Every enabled migration's fires and window openings in the next ``days`` (at most
        PER_MIGRATION of each per migration)."""
        now = self.ctx.clock.now()
        until = now + timedelta(days=days)
        items: list[views.AgendaEntry] = []
        for record in self.store.list_migrations():
            if record.enabled:
                spec = MigrationSpec.model_validate(record.spec)
                items += self._runs(spec, now, until) + self._windows(spec, now, until)
        return views.Agenda(items=sorted(items, key=lambda e: (e.starts_at, e.uid)))

    def _runs(self, spec: MigrationSpec, now: datetime, until: datetime) -> list[views.AgendaEntry]:
        trigger, windows = spec.trigger(), spec.window_set()
        found: list[views.AgendaEntry] = []
        after = now
        while trigger is not None and len(found) < PER_MIGRATION:
            decision = plan_next(trigger, windows, spec.behavior(), after)
            if decision is None or decision.due > until:
                break
            after = decision.due
            if decision.action is StartAction.FAIL or decision.start_at is None:
                continue
            start = decision.start_at
            found.append(
                views.AgendaEntry(
                    uid=_uid(spec.id, "run", decision.due),
                    migration_id=spec.id,
                    kind="run",
                    summary=f"moonshift: {spec.title}",
                    description=f"{spec.kind} migration {spec.id}; {decision.reason}",
                    starts_at=start,
                    ends_at=start + (spec.max_duration or RUN_SHOWN_FOR),
                    timezone=spec.timezone,
                )
            )
        return found

    def _windows(
        self, spec: MigrationSpec, now: datetime, until: datetime
    ) -> list[views.AgendaEntry]:
        windows = spec.window_set()
        if windows is None:
            return []
        return [
            views.AgendaEntry(
                uid=_uid(spec.id, "window", span.opens_at),
                migration_id=spec.id,
                kind="window",
                summary=f"window {' + '.join(span.names)}: {spec.title}",
                description=f"maintenance window of migration {spec.id}",
                starts_at=span.opens_at,
                ends_at=span.closes_at or span.opens_at + timedelta(days=1),
                timezone=spec.timezone,
            )
            for span in windows.upcoming(now, PER_MIGRATION)
            if span.opens_at <= until
        ]
