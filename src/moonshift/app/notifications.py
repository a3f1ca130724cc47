"""Notifications: channels (``channels:`` in spec files, ``setup-slack``, ``setup-email``), the
per-target delivery log of a migration's events, and a test message to verify a channel.

Events reach the outbox in the store, in the transaction of their cause (``StoreCore._emit``;
outside one, ``store.emit``); the daemon's dispatcher delivers them (``engine.outbox``).
"""

from __future__ import annotations

import builtins
import time
import uuid
from typing import Any

from pydantic import ValidationError

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.app.views import Instant, View
from moonshift.domain.notices import ChannelSpec, Notice
from moonshift.domain.secrets import redact_url
from moonshift.domain.spec_base import FieldProblem
from moonshift.errors import InvalidInput, TerminalError, TransientError
from moonshift.notify.registry import notifier_for
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


class ChannelTest(View):
    """``notify test``: whether a test message reached the channel, and if not, why."""

    channel: str
    ok: bool
    reason: str | None  # never a secret: no URL, no password
    seconds: float
    key: str


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

    def define(self, settings: dict[str, Any], *, actor: str) -> views.ConnectionApplied:
        """``setup-slack`` / ``setup-email``: a channel from its settings (as a spec file
        writes them); InvalidInput naming the field when they are wrong."""
        try:
            spec = ChannelSpec.model_validate(settings)
        except ValidationError as exc:
            raise InvalidInput(*_first_problem(exc)) from None
        return self.put_channel(spec, actor=actor)

    def test(self, channel_id: str, *, actor: str) -> ChannelTest:
        """Send a test message now, from here (the runbook's "verify webhook endpoints"),
        with this process's environment; the answer says whether it arrived."""
        record = self.store.get_channel(channel_id)
        now = self.ctx.clock.now()
        key = f"test_{uuid.uuid4().hex}"
        notice = Notice(
            kind="test", at=now, reason=f"a test message for channel {channel_id}", actor=actor
        )
        started = time.monotonic()
        reason = None
        try:
            channel = ChannelSpec.model_validate(record.settings)
            notifier_for(channel, self.ctx.environ).deliver(notice.payload(), key=key)
        except (TransientError, TerminalError) as exc:
            reason = str(exc)
        return ChannelTest(
            channel=channel_id,
            ok=reason is None,
            reason=reason,
            seconds=round(time.monotonic() - started, 3),
            key=key,
        )

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


def _first_problem(exc: ValidationError) -> tuple[str | None, str]:
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldProblem):
        return cause.path, cause.reason
    loc = ".".join(str(part) for part in error["loc"]) or None
    return loc, str(error["msg"]).removeprefix("Value error, ")


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
