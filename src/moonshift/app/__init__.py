"""The application layer: every use case of moonshift, by family, over one shared context.
The CLI, the Python scheduler API, the REST API and the dashboard call these and show the
views they return; none of them holds a rule of its own.

    app = Moonshift(Settings.from_env())
    app.migrations.apply(["migrations.yaml"], actor="user:me")
    run = app.runs.execute(app.runs.run_now("nightly", actor="user:me").id)
"""

from __future__ import annotations

from collections.abc import Mapping

from moonshift.app import views
from moonshift.app.agenda import Agenda
from moonshift.app.alerts import Alerts
from moonshift.app.backfills import Backfills
from moonshift.app.certificates import Certificates
from moonshift.app.connections import Connections
from moonshift.app.context import Context
from moonshift.app.copies import Copies
from moonshift.app.daemons import Daemons, SchedulerConfig
from moonshift.app.idempotency import Idempotency
from moonshift.app.keys import SCOPES, Keys
from moonshift.app.metrics import Metrics
from moonshift.app.migrations import STATUSES, Migrations
from moonshift.app.notifications import Notifications
from moonshift.app.plans import Plans
from moonshift.app.runs import Runs
from moonshift.app.schedules import Schedules
from moonshift.app.settings import Settings, current_user
from moonshift.app.suggestions import Suggestions
from moonshift.app.validation import Validations
from moonshift.app.webhooks import Webhooks
from moonshift.seams import Clock
from moonshift.store import StateStore
from moonshift.store.records import ScheduleStatus
from moonshift.store.records import Trigger as TriggerType

__all__ = [
    "SCOPES",
    "STATUSES",
    "Moonshift",
    "ScheduleStatus",
    "SchedulerConfig",
    "Settings",
    "TriggerType",
    "current_user",
    "views",
]


class Moonshift:
    """moonshift's use cases over one state store, clock and environment."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.ctx = Context(settings, clock=clock, environ=environ)
        self.connections = Connections(self.ctx)
        self.notifications = Notifications(self.ctx)
        self.alerts = Alerts(self.ctx)
        self.migrations = Migrations(self.ctx, self.connections, self.notifications)
        self.runs = Runs(self.ctx)
        self.schedules = Schedules(self.ctx)
        self.backfills = Backfills(self.ctx)
        self.daemons = Daemons(self.ctx)
        self.copies = Copies(self.ctx, self.runs)
        self.plans = Plans(self.ctx, self.copies)
        self.suggestions = Suggestions(self.ctx, self.plans)
        self.keys = Keys(self.ctx)
        self.idempotency = Idempotency(self.ctx)
        self.webhooks = Webhooks(self.ctx, self.runs)
        self.agenda = Agenda(self.ctx)
        self.metrics = Metrics(self.ctx)
        self.validation = Validations(self.ctx)
        self.certificates = Certificates(self.ctx)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def store(self) -> StateStore:
        """The state store itself, for the engine's wiring and for tests; faces use the
        families."""
        return self.ctx.store

    def close(self) -> None:
        self.ctx.close()
