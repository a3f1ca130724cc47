"""What every family of use cases shares: the settings, the store, the clock, the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from moonshift.app.settings import Settings
from moonshift.clock import SystemClock
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Unavailable
from moonshift.seams import AppStore, Clock
from moonshift.store import StateStore


class Context:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.environ = os.environ if environ is None else environ
        self._store: StateStore | None = None

    @property
    def store(self) -> StateStore:
        """Opened on first use (and the schema upgraded then)."""
        if self._store is None:
            self._store = StateStore.open(self.settings.state_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def spec_of(self, migration_id: str) -> MigrationSpec:
        return MigrationSpec.model_validate(self.store.get_migration(migration_id).spec)

    def require_daemon(self, what: str) -> None:
        """Unavailable unless a daemon heartbeats into this store (it would do ``what``)."""
        if not self.store.live_daemons(self.clock.now()):
            raise Unavailable(f"no moonshift daemon is running to {what}")


class Family:
    """A family of use cases over the shared context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def store(self) -> AppStore:
        return self.ctx.store
