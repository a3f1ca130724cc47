"""A copy's key ranges as the state store leases them to the workers of every daemon."""

from __future__ import annotations

import time
from collections.abc import Sequence

from moonshift.runtime.runs import HEARTBEAT_SECONDS, LEASE, RunContext
from moonshift.store.records import RunRecord


class StoreRangeLeases:
    """``seams.RangeLeases`` of one copy, for one worker (``owner``: its daemon and itself)."""

    def __init__(self, ctx: RunContext, run: RunRecord, copy_id: int, daemon: str) -> None:
        self.ctx, self.run, self.copy_id = ctx, run, copy_id
        self.owner = f"{daemon} {ctx.actor}"
        self._renewed = time.monotonic()

    def offer(self, table: str, range_ids: Sequence[int]) -> None:
        self.ctx.store.offer_ranges(
            self.run.migration_id, self.copy_id, table, range_ids, run_id=self.run.id
        )

    def claim(self, table: str) -> int | None:
        now = self.ctx.clock.now()
        return self.ctx.store.claim_range(
            self.run.migration_id,
            self.copy_id,
            table,
            owner=self.owner,
            lease_until=now + LEASE,
            now=now,
        )

    def finish(self, table: str, range_id: int) -> None:
        self.ctx.store.finish_range(
            self.run.migration_id, self.copy_id, table, range_id, owner=self.owner
        )

    def left(self, table: str) -> int:
        self.renew()
        return self.ctx.store.ranges_left(self.run.migration_id, self.copy_id, table)

    def renew(self) -> None:
        if time.monotonic() - self._renewed >= HEARTBEAT_SECONDS:
            self._renewed = time.monotonic()
            self.ctx.store.renew_ranges(self.owner, lease_until=self.ctx.clock.now() + LEASE)

    def release(self) -> None:
        self.ctx.store.release_ranges(self.owner)
