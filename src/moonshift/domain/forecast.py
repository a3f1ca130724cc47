"""The window forecast: with a migration's windows and an estimated duration, how many
windows the work needs and when it finishes, in the migration's zone.

Pure: the planner passes the start (now) and the estimate. The work is taken to pause when a
window closes and resume when the next opens, as ``window_behavior.outside_window: pause``
does; without windows it runs at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from moonshift.timing import WindowSet

MAX_WINDOWS = 1000  # a forecast needing more says so rather than searching on


@dataclass(frozen=True)
class Forecast:
    windows: int  # 0: no windows, it runs at once
    starts_at: datetime
    finishes_at: datetime
    timezone: str

    @property
    def text(self) -> str:
        """``needs 3 windows; finishes Tue 2026-12-01 04:10 EST``."""
        when = self.finishes_at.astimezone(ZoneInfo(self.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
        if self.windows == 0:
            return f"runs at once; finishes {when}"
        plural = "window" if self.windows == 1 else "windows"
        return f"needs {self.windows} {plural}; finishes {when}"


def forecast(
    duration: timedelta, start: datetime, windows: WindowSet | None, timezone: str
) -> Forecast | None:
    """None when the windows never open again (or the work needs more than MAX_WINDOWS)."""
    if windows is None:
        return Forecast(0, start, start + duration, timezone)
    left, t, used = duration, start, 0
    first: datetime | None = None
    while used < MAX_WINDOWS:
        opens = windows.next_open(t)
        if opens is None:
            return None
        closes = windows.closes_at(opens)
        first = first or opens
        used += 1
        if closes is None or closes - opens >= left:
            return Forecast(used, first, opens + left, timezone)
        left -= closes - opens
        t = closes
    return None


def longest_window(windows: WindowSet, start: datetime, count: int = 14) -> timedelta | None:
    """The longest of the next ``count`` open stretches (None if one never closes)."""
    longest = timedelta(0)
    for span in windows.upcoming(start, count):
        if span.closes_at is None:
            return None
        longest = max(longest, span.closes_at - max(span.opens_at, start))
    return longest
