"""Which key range of a table a worker copies next: the next of its own list, or, where the
state store leases ranges to the workers of every daemon, one it can claim there."""

from __future__ import annotations

from collections.abc import Callable

from moonshift.copy.bookkeeping import RangeState
from moonshift.seams import RangeLeases


class RangeQueue:
    def __init__(
        self,
        table: str,
        ranges: list[RangeState],
        leases: RangeLeases | None,
        reload: Callable[[RangeState], RangeState],
        *,
        wait_for_others: bool = True,
    ) -> None:
        """``reload``: a range's checkpoint as the target holds it (the truth: a claimed
        range resumes from there). ``wait_for_others``: the copy goes on while ranges held
        by other workers are unfinished (the run's own worker waits; a helper does not)."""
        self.table, self.leases, self.reload = table, leases, reload
        self.pending = list(ranges)
        self.wait_for_others = wait_for_others
        self._claimed_all = False  # nothing was left to claim, last time
        if leases is not None:
            leases.offer(table, [r.range_id for r in ranges])

    def next(self) -> RangeState | None:
        if self.leases is None:
            return self.pending.pop(0) if self.pending else None
        while (range_id := self.leases.claim(self.table)) is not None:
            state = self.reload(RangeState(self.table, range_id, None, None, None, 0, False))
            if not state.done:
                return state
            self.leases.finish(self.table, range_id)  # committed before its worker died
        self._claimed_all = True
        return None

    def more(self, running: int) -> bool:
        """Whether the table is not done yet, as far as this worker goes."""
        if running:
            return True
        if self.leases is None:
            return bool(self.pending)
        if self.wait_for_others:
            return self.leases.left(self.table) > 0
        return not self._claimed_all

    def finished(self, state: RangeState) -> None:
        if self.leases is not None:
            self.leases.finish(self.table, state.range_id)

    def keep_alive(self) -> None:
        if self.leases is not None:
            self.leases.renew()

    def give_back(self) -> None:
        """Stopping: the ranges held here go back to be claimed."""
        if self.leases is not None:
            self.leases.release()
