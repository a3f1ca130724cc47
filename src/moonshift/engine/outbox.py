"""The outbox's dispatcher: routes each event to the channels its migration's rules name,
then delivers, at least once, each with its key, in order per channel.

Runs in a thread of the daemon. A delivery is claimed with a lease before it is sent, so a
daemon killed while sending leaves it to the next one, which sends it again with the same
key (``webhook-id``): at least once, and once for a receiver that keeps keys.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from moonshift.domain.notices import NOTABLE, ChannelSpec, Notice, targets
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import NotFound, TerminalError, TransientError
from moonshift.notify.posting import RetryAfter
from moonshift.notify.registry import notifier_for
from moonshift.runtime.runs import LEASE
from moonshift.seams import Clock, EngineStore
from moonshift.store.outage import unreachable
from moonshift.store.records import DeliveryRecord

log = logging.getLogger("moonshift.notify")
MAX_ATTEMPTS = 12  # about 4 hours of tries with the backoff below
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 1800.0


def backoff(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failed try to try again."""
    return timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


class Dispatcher:
    def __init__(self, store: EngineStore, clock: Clock, environ: Mapping[str, str]) -> None:
        self.store, self.clock, self.environ = store, clock, environ
        self._specs: dict[tuple[str, int], MigrationSpec] = {}

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Route and deliver until ``stop`` is set; sleeps only when there was nothing."""
        while not stop.is_set():
            try:
                busy = self.pass_once()
            except Exception as exc:  # the outbox keeps the events: log it and go on
                if unreachable(exc):  # the daemon's loop says so once, and when it is back
                    log.debug("notifications wait for the state store: %s", exc)
                else:
                    log.exception("notification dispatcher pass failed")
                busy = 0
            stop.wait(0.01 if busy else poll_seconds)

    def pass_once(self) -> int:
        """Remind of open alerts, route what is new, deliver what is due; returns how much
        it did. A pass with nothing to do reads one statement."""
        now = self.clock.now()
        work = self.store.outbox_glance(now)
        reminded = self.remind(now) if work.open_alerts else 0
        routed = self.route(now) if work.unrouted or reminded else 0
        return reminded + routed + (self.deliver() if work.deliveries_due or routed else 0)

    # -- alerts ---------------------------------------------------------------------------

    def remind(self, now: datetime) -> int:
        """Send again every open alert not acknowledged, each on its migration's
        ``alerts.renotify`` schedule."""
        sent = 0
        for alert in self.store.list_alerts(statuses=("open",), limit=1000):
            spec = self._spec_of(alert.migration_id) if alert.migration_id else None
            if spec is None:
                continue
            due_before = now - spec.alerts.renotify
            if alert.notified_at <= due_before and self.store.renotify_alert(
                alert.id, now=now, due_before=due_before
            ):
                log.warning("alert %d still open (%s): sent again", alert.id, alert.summary)
                sent += 1
        return sent

    # -- routing --------------------------------------------------------------------------

    def route(self, now: datetime) -> int:
        events = self.store.unrouted_events()
        for event in events:
            if event.kind in NOTABLE:
                level = logging.INFO if event.severity == "info" else logging.WARNING
                log.log(level, "%s: %s", event.kind, event.summary)
        routes = {event.id: self.targets(event) for event in events if event.id is not None}
        self.store.route_events(routes, now=now)
        return len(events)

    def targets(self, event: Notice) -> list[str]:
        spec = self._spec_of(event.migration_id) if event.migration_id else None
        if spec is None:
            return []
        cause = (event.details or {}).get("cause")
        return targets(
            spec.notify,
            event.kind,
            notify_on_skip=spec.notify_on_skip,
            cause=cause if isinstance(cause, str) else None,
        )

    def _spec_of(self, migration_id: str) -> MigrationSpec | None:
        try:
            record = self.store.get_migration(migration_id, include_deleted=True)
        except NotFound:
            return None
        key = (record.id, record.version)
        if key not in self._specs:
            self._specs[key] = MigrationSpec.model_validate(record.spec)
        return self._specs[key]

    # -- delivery -------------------------------------------------------------------------

    def deliver(self) -> int:
        """Try every due delivery, in order per channel: a channel whose oldest delivery
        is waiting sends nothing newer until it has gone."""
        channels = {c.id: c for c in self.store.list_channels()}
        waiting: set[str] = set()
        events: dict[int, Notice] = {}
        done = 0
        for delivery in self.store.pending_deliveries():
            if delivery.channel_id in waiting:
                continue
            now = self.clock.now()
            if delivery.next_attempt_at > now or not self.store.claim_delivery(
                delivery.id, now=now, until=now + LEASE
            ):
                waiting.add(delivery.channel_id)
                continue
            if delivery.event_id not in events:
                events[delivery.event_id] = self.store.get_event(delivery.event_id)
            record = channels.get(delivery.channel_id)
            spec = ChannelSpec.model_validate(record.settings) if record else None
            if not self._attempt(delivery, events[delivery.event_id], spec):
                waiting.add(delivery.channel_id)
            done += 1
        return done

    def _attempt(
        self, delivery: DeliveryRecord, event: Notice, channel: ChannelSpec | None
    ) -> bool:
        """One try; True when it was delivered (or given up, so the channel goes on)."""
        where = f"event {event.id} ({event.kind}, {event.migration_id}) to {delivery.channel_id}"
        try:
            if channel is None:
                raise TerminalError(f'no channel "{delivery.channel_id}"')
            notifier_for(channel, self.environ).deliver(event.payload(), key=delivery.key)
        except RetryAfter as exc:
            wait = timedelta(seconds=max(exc.seconds, 0.05))
            log.info("%s: %s; trying again in %.1fs", where, exc, wait.total_seconds())
            self.store.delivery_failed(
                delivery.id,
                error=str(exc),
                now=self.clock.now(),
                retry_at=self.clock.now() + wait,
                counts=False,
            )
            return False
        except TerminalError as exc:
            log.error("%s not delivered, given up: %s", where, exc)
            self.store.delivery_failed(
                delivery.id, error=str(exc), now=self.clock.now(), retry_at=None
            )
            return True
        except Exception as exc:  # transient, or a bug in a notifier: both are tried again
            reason = str(exc) if isinstance(exc, TransientError) else repr(exc)
            attempts = delivery.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                log.error("%s not delivered after %d tries: %s", where, attempts, reason)
                retry_at = None
            else:
                retry_at = self.clock.now() + backoff(attempts)
                log.warning(
                    "%s failed (try %d): %s; again at %s",
                    where,
                    attempts,
                    reason,
                    retry_at.isoformat(),
                )
            self.store.delivery_failed(
                delivery.id, error=reason, now=self.clock.now(), retry_at=retry_at
            )
            return retry_at is None
        self.store.delivery_done(delivery.id, now=self.clock.now())
        log.info("delivered %s", where)
        return True
