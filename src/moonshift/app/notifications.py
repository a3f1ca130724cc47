"""Notifications: channels (``channels:`` in spec files, ``setup-slack``, ``setup-email``), the
per-target delivery log of a migration's events, and a test message to verify a channel.

Events reach the outbox in the store, in the transaction of their cause (``StoreCore._emit``;
outside one, ``store.emit``); the daemon's dispatcher delivers them (``engine.outbox``).
"""

from __future__ import annotations

import builtins
from typing import Any

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.app.views import Instant, View
from moonshift.domain.notices import ChannelSpec, Notice
from moonshift.domain.secrets import redact_url
from moonshift.store.records import ChannelRecord, DeliveryRecord


class Channel(View):
    id: str
    type: str
    name: str
    settings: dict[str, Any]  # as written: ${ENV} references, any literal password masked
    source_file: str | None
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, record: ChannelRecord) -> Channel:
        settings = dict(record.settings)
        if isinstance(settings.get("url"), str):
            settings["url"] = redact_url(settings["url"])
        return cls.model_validate(record).model_copy(update={"settings": settings})


class Delivery(View):
    """One event to one channel: its key (the ``webhook-id``), and how it went."""

    channel: str
    key: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: Instant | None
    last_error: str | None
    delivered_at: Instant | None

    @classmethod
    def of(cls, record: DeliveryRecord) -> Delivery:
        return cls(
            channel=record.channel_id,
            key=record.key,
            status=record.status,
            attempts=record.attempts,
            next_attempt_at=record.next_attempt_at if record.status == "pending" else None,
            last_error=record.last_error,
            delivered_at=record.delivered_at,
        )


class Event(View):
    """An event of the outbox and its deliveries (none: no rule routes it, or not yet)."""

    id: int
    kind: str
    severity: str
    at: Instant
    migration_id: str | None
    run_id: int | None
    summary: str
    deliveries: list[Delivery]


class Notifications(Family):
    # -- channels -------------------------------------------------------------------------

    def channels(self) -> builtins.list[Channel]:
        return [Channel.of(c) for c in self.store.list_channels()]

    def channel(self, channel_id: str) -> Channel:
        return Channel.of(self.store.get_channel(channel_id))

    def put_channel(
        self, spec: ChannelSpec, *, actor: str, source_file: str | None = None
    ) -> views.ConnectionApplied:
        _record, action = self.store.put_channel(
            channel_id=spec.id,
            type_=spec.type,
            settings=spec.stored(),
            name=spec.name or spec.id,
            actor=actor,
            now=self.ctx.clock.now(),
            source_file=source_file,
        )
        return views.ConnectionApplied(id=spec.id, action=action)

    def delete_channel(self, channel_id: str, *, actor: str) -> None:
        self.store.delete_channel(channel_id, actor=actor, now=self.ctx.clock.now())

    # -- the delivery log -----------------------------------------------------------------

    def log(
        self, migration_id: str, *, run_id: int | None = None, limit: int = 50
    ) -> builtins.list[Event]:
        """A migration's events, newest first, each with its delivery to every target."""
        self.store.get_migration(migration_id, include_deleted=True)
        events = self.store.events_of(migration_id, run_id=run_id, limit=limit)
        by_event: dict[int, builtins.list[Delivery]] = {}
        for record in self.store.deliveries_of([e.id for e in events if e.id is not None]):
            by_event.setdefault(record.event_id, []).append(Delivery.of(record))
        return [_event(e, by_event.get(e.id or 0, [])) for e in events]


def _event(notice: Notice, deliveries: builtins.list[Delivery]) -> Event:
    assert notice.id is not None
    return Event(
        id=notice.id,
        kind=notice.kind,
        severity=notice.severity,
        at=notice.at,
        migration_id=notice.migration_id,
        run_id=notice.run_id,
        summary=notice.summary,
        deliveries=deliveries,
    )
