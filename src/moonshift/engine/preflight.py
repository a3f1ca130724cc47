"""Pre-flight checks: before a scheduled start, are the source and the target reachable?

Checked ``preflight.connectivity`` before the start (default 30m); a failure is recorded at
once and announced ``preflight.notify`` before the start (default 10m), when the
stakeholders' notice of a scheduled start goes out too (``starting_soon``, when a rule names it);
the worker checks again when the run starts. Checks run in threads, so a slow database
never stalls the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from moonshift.domain.spec import MigrationSpec
from moonshift.errors import TerminalError
from moonshift.runtime.preflight import check
from moonshift.runtime.runs import with_connections
from moonshift.seams import Clock, EngineStore

log = logging.getLogger("moonshift.preflight")
SpecLoader = Callable[[set[str]], Mapping[str, MigrationSpec]]
LOOKAHEAD = timedelta(hours=2)
SCAN_EVERY = timedelta(seconds=30)


class Preflight:
    def __init__(self, store: EngineStore, clock: Clock, environ: Mapping[str, str]) -> None:
        self.store, self.clock, self.environ = store, clock, environ
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="preflight")
        self._checked: dict[tuple[str, datetime], Future[str | None]] = {}
        self._announced: set[tuple[str, datetime]] = set()
        self._upcoming: dict[tuple[str, datetime], datetime] = {}  # start -> its notice
        self._noticed: set[tuple[str, datetime]] = set()
        self._scanned: datetime | None = None
        self._changed: datetime | None = None  # schedules as of the last scan
        self._specs: Mapping[str, MigrationSpec] = {}

    def tick(
        self, now: datetime, load_specs: SpecLoader, *, changed_at: datetime | None
    ) -> list[datetime]:
        """Start due checks, announce failures; returns when it next has something to do.

        It looks for upcoming fires every SCAN_EVERY and when a schedule changed (the
        latest change of any is ``changed_at``), and loads only their specs.
        """
        hints: list[datetime] = []
        changed = changed_at
        if self._scanned is None or now - self._scanned >= SCAN_EVERY or changed != self._changed:
            self._scanned, self._changed = now, changed
            fires = self.store.fires_between(now, now + LOOKAHEAD)
            self._specs = load_specs({migration_id for migration_id, _ in fires}) if fires else {}
            for migration_id, fire in fires:
                spec = self._specs.get(migration_id)
                if (
                    spec is not None
                    and _wants_notice(spec)
                    and (migration_id, fire) not in self._noticed
                ):
                    self._upcoming[(migration_id, fire)] = fire - spec.preflight.notify
                if spec is None or (spec.source is None and spec.target is None):
                    continue
                key = (migration_id, fire)
                check_at = fire - spec.preflight.connectivity
                if key not in self._checked and now >= check_at:
                    self._checked[key] = self._pool.submit(
                        self._run_check, migration_id, fire, spec
                    )
                elif key not in self._checked:
                    hints.append(check_at)
                if key in self._checked and key not in self._announced:
                    hints.append(fire - spec.preflight.notify)
        hints += self._notices(now)
        for key, future in list(self._checked.items()):
            migration_id, fire = key
            if not future.done() or key in self._announced:
                continue
            spec = self._specs.get(migration_id)
            if spec is not None and now >= fire - spec.preflight.notify:
                if future.result():
                    self.store.record_event(
                        now=now,
                        migration_id=migration_id,
                        event_type="preflight",
                        outcome="announced",
                        reason=f"start at {fire.isoformat()} at risk: {future.result()}",
                    )
                    log.warning(
                        "pre-flight for %s at %s: %s",
                        migration_id,
                        fire.isoformat(),
                        future.result(),
                    )
                self._announced.add(key)  # once recorded: a store outage leaves it to a retry
            if now > fire:
                self._checked.pop(key, None)
                self._announced.discard(key)
        return hints

    def _notices(self, now: datetime) -> list[datetime]:
        """The stakeholders' notice, ``preflight.notify`` before each scheduled start (once,
        across daemons: one already recorded for that start is not repeated)."""
        hints = []
        for key, notice_at in list(self._upcoming.items()):
            migration_id, fire = key
            if now < notice_at:
                hints.append(notice_at)
                continue
            if now >= fire:
                del self._upcoming[key]
                self._noticed.add(key)
                continue
            reason = f"starts at {fire.isoformat()}"
            earlier = self.store.get_events(migration_id, limit=20)
            if not any(e.event_type == "preflight" and e.reason == reason for e in earlier):
                self.store.record_event(
                    now=now,
                    migration_id=migration_id,
                    event_type="preflight",
                    outcome="notice",
                    reason=reason,
                )
                log.info("%s starts at %s: stakeholders notified", migration_id, fire.isoformat())
            # marked once recorded: a store outage above leaves it to the next tick
            del self._upcoming[key]
            self._noticed.add(key)
        self._noticed = {k for k in self._noticed if k[1] > now - LOOKAHEAD}
        return hints

    def _run_check(self, migration_id: str, fire: datetime, spec: MigrationSpec) -> str | None:
        try:
            reason = check(with_connections(self.store, spec), self.environ)
        except TerminalError as exc:
            reason = str(exc)
        self.store.record_event(
            now=self.clock.now(),
            migration_id=migration_id,
            event_type="preflight",
            outcome="failed" if reason else "ok",
            reason=f"for the start at {fire.isoformat()}" + (f": {reason}" if reason else ""),
        )
        return reason

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _wants_notice(spec: MigrationSpec) -> bool:
    """The notice before a start is for the stakeholders a rule names (``starting_soon``):
    nobody else needs an event before every fire of a frequent schedule."""
    return any(rule.wants("starting_soon") for rule in spec.notify)
