"""The clock of a real process (the seam is ``Clock`` in ``moonshift.seams``; tests hand the
engine a clock they move themselves)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
