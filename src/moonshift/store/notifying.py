"""The state store's part for notifications: channels, the outbox and its deliveries.

Events enter the outbox through ``StoreCore._emit`` in the transaction of their cause; the
dispatcher routes each once (its deliveries and ``routed_at`` in one transaction) and then
delivers, recording every attempt here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select, update

from moonshift.domain.notices import Notice
from moonshift.errors import NotFound
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import ChannelRecord, DeliveryRecord, OutboxGlance

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def delivery_key(event_id: int, channel_id: str) -> str:
    """The same for every attempt of one event to one channel: receivers keep it once."""
    return f"msg_{event_id}_{channel_id}"


class NotifyStore(StoreCore):
    # -- channels -------------------------------------------------------------------------

    def put_channel(
        self,
        *,
        channel_id: str,
        type_: str,
        settings: dict[str, Any],
        name: str,
        actor: str,
        now: datetime,
        source_file: str | None = None,
    ) -> tuple[ChannelRecord, str]:
        values = {"type": type_, "settings": settings, "name": name, "source_file": source_file}
        row, action = self._put_named(
            t.channels, channel_id, values, what="channel", actor=actor, now=now
        )
        return ChannelRecord(**row._mapping), action

    def get_channel(self, channel_id: str) -> ChannelRecord:
        with self._read() as conn:
            row = conn.execute(select(t.channels).where(t.channels.c.id == channel_id)).first()
        if row is None:
            raise NotFound(f'no channel "{channel_id}"')
        return ChannelRecord(**row._mapping)

    def list_channels(self) -> list[ChannelRecord]:
        with self._read() as conn:
            rows = conn.execute(select(t.channels).order_by(t.channels.c.id))
            return [ChannelRecord(**row._mapping) for row in rows]

    def delete_channel(self, channel_id: str, *, actor: str, now: datetime) -> None:
        with self._write() as conn:
            done = conn.execute(delete(t.channels).where(t.channels.c.id == channel_id))
            if not done.rowcount:
                raise NotFound(f'no channel "{channel_id}"')
            self._audit(conn, now=now, actor=actor, action="channel deleted", reason=channel_id)

    # -- the outbox -----------------------------------------------------------------------

    def emit(self, notice: Notice) -> int:
        """Put an event in the outbox in a transaction of its own (where no state change
        goes with it); inside a store transaction use ``_emit``."""
        with self._write() as conn:
            return self._emit(conn, notice)

    def outbox_glance(self, now: datetime) -> OutboxGlance:
        query = select(
            exists().where(t.alerts.c.status == "open"),
            exists().where(t.outbox.c.routed_at.is_(None)),
            exists().where(t.deliveries.c.status == PENDING, t.deliveries.c.next_attempt_at <= now),
        )
        with self._read() as conn:
            row = conn.execute(query).one()
        return OutboxGlance(
            open_alerts=bool(row[0]), unrouted=bool(row[1]), deliveries_due=bool(row[2])
        )

    def unrouted_events(self, *, limit: int = 200) -> list[Notice]:
        """Events not yet routed, oldest first."""
        query = (
            select(t.outbox)
            .where(t.outbox.c.routed_at.is_(None))
            .order_by(t.outbox.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [_notice(row) for row in conn.execute(query)]

    def route_events(self, routes: Mapping[int, Sequence[str]], *, now: datetime) -> int:
        """Write each event's deliveries (event id -> channel ids) and mark it routed, all
        in one transaction; an event routed already is left as it is. Returns how many
        were routed here."""
        if not routes:
            return 0
        with self._write() as conn:
            query = select(t.outbox.c.id).where(
                t.outbox.c.id.in_(list(routes)), t.outbox.c.routed_at.is_(None)
            )
            fresh = [row.id for row in conn.execute(self._locked(conn, query))]
            rows = [
                {
                    "event_id": event_id,
                    "channel_id": channel_id,
                    "key": delivery_key(event_id, channel_id),
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for event_id in sorted(fresh)
                for channel_id in routes[event_id]
            ]
            if rows:
                conn.execute(insert(t.deliveries), rows)
            if fresh:
                conn.execute(update(t.outbox).where(t.outbox.c.id.in_(fresh)).values(routed_at=now))
            return len(fresh)

    def get_event(self, event_id: int) -> Notice:
        with self._read() as conn:
            row = conn.execute(select(t.outbox).where(t.outbox.c.id == event_id)).first()
        if row is None:
            raise NotFound(f"no event {event_id}")
        return _notice(row)

    def events_of(
        self,
        migration_id: str | None = None,
        *,
        run_id: int | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[Notice]:
        """Events newest first, of a migration or a run (of ``kinds`` only)."""
        query = select(t.outbox).order_by(t.outbox.c.id.desc()).limit(limit)
        if kinds is not None:
            query = query.where(t.outbox.c.kind.in_(sorted(kinds)))
        if migration_id is not None:
            query = query.where(t.outbox.c.migration_id == migration_id)
        if run_id is not None:
            query = query.where(t.outbox.c.run_id == run_id)
        with self._read() as conn:
            return [_notice(row) for row in conn.execute(query)]

    # -- deliveries -----------------------------------------------------------------------

    def pending_deliveries(self, *, limit: int = 500) -> list[DeliveryRecord]:
        """Deliveries still to make, oldest first (due or not: a channel keeps its order)."""
        query = (
            select(t.deliveries)
            .where(t.deliveries.c.status == PENDING)
            .order_by(t.deliveries.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [DeliveryRecord(**row._mapping) for row in conn.execute(query)]

    def claim_delivery(self, delivery_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a due delivery until ``until`` (a lease: if its daemon dies while sending,
        another tries again then); False when another daemon took it first."""
        with self._write() as conn:
            done = conn.execute(
                update(t.deliveries)
                .where(
                    t.deliveries.c.id == delivery_id,
                    t.deliveries.c.status == PENDING,
                    t.deliveries.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=until)
            )
            return bool(done.rowcount)

    def delivery_done(self, delivery_id: int, *, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.deliveries)
                .where(t.deliveries.c.id == delivery_id)
                .values(
                    status=DELIVERED,
                    attempts=t.deliveries.c.attempts + 1,
                    delivered_at=now,
                    last_error=None,
                )
            )

    def delivery_failed(
        self,
        delivery_id: int,
        *,
        error: str,
        now: datetime,
        retry_at: datetime | None,
        counts: bool = True,
    ) -> None:
        """Record a failed attempt: tried again at ``retry_at``, or given up when None.
        ``counts`` False: the receiver asked to wait (429), which is not a failed try."""
        values: dict[str, Any] = {"last_error": error[:2000]}
        if counts:
            values["attempts"] = t.deliveries.c.attempts + 1
        if retry_at is None:
            values["status"] = FAILED
        else:
            values["next_attempt_at"] = retry_at
        with self._write() as conn:
            conn.execute(
                update(t.deliveries).where(t.deliveries.c.id == delivery_id).values(**values)
            )

    def deliveries_of(self, event_ids: Sequence[int]) -> list[DeliveryRecord]:
        if not event_ids:
            return []
        query = (
            select(t.deliveries)
            .where(t.deliveries.c.event_id.in_(list(event_ids)))
            .order_by(t.deliveries.c.id)
        )
        with self._read() as conn:
            return [DeliveryRecord(**row._mapping) for row in conn.execute(query)]


def _notice(row: Any) -> Notice:
    m = row._mapping
    return Notice(
        kind=m["kind"],
        at=m["at"],
        migration_id=m["migration_id"],
        run_id=m["run_id"],
        reason=m["reason"],
        actor=m["actor"],
        details=m["details"],
        id=m["id"],
    )
