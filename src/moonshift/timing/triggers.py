"""Triggers: when a migration is due. Each is immutable and reads no clock.

``next_fire(after)`` is the first fire strictly after ``after`` (aware, UTC), or None when
there is none; ``fire_times(start, end)`` yields every fire in ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from moonshift.timing import cronexpr
from moonshift.timing.zones import WallKind, get_zone, instants, resolve, utc, wall_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The longest a zone has ever set its clocks back in one step (double summer time).
_LONGEST_OVERLAP = timedelta(hours=2)


class Trigger(Protocol):
    def next_fire(self, after: datetime) -> datetime | None: ...

    def fire_times(self, start: datetime, end: datetime) -> Iterator[datetime]: ...


class _FireTimes:
    def fire_times(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire in ``[start, end)``."""
        current: datetime | None = utc(start) - timedelta(microseconds=1)
        end = utc(end)
        while current is not None:
            current = self.next_fire(current)  # type: ignore[attr-defined]
            if current is None or current >= end:
                return
            yield current


@dataclass(frozen=True)
class Once(_FireTimes):
    """One fire at a wall-clock time in a zone (or at an instant, if ``at`` is aware)."""

    at: datetime
    timezone: str = "UTC"

    @property
    def instant(self) -> datetime:
        if self.at.tzinfo is not None:
            return utc(self.at)
        return resolve(self.at, get_zone(self.timezone))[0]

    @property
    def wall_kind(self) -> WallKind:
        if self.at.tzinfo is not None:
            return WallKind.NORMAL
        return resolve(self.at, get_zone(self.timezone))[1]

    def next_fire(self, after: datetime) -> datetime | None:
        return self.instant if self.instant > utc(after) else None


@dataclass(frozen=True)
class Cron(_FireTimes):
    """A five-field cron expression read in ``timezone`` under moonshift's DST rule.

    cronsim matches wall-clock times; this class maps them to instants. An expression with a
    wildcard or step in its hour field runs in real time (every instant whose wall clock
    matches, so twice through a repeated hour and never in a skipped one); any other fires
    once per matching wall-clock time (skipped times at the first instant after the gap,
    repeated times at their first occurrence).
    """

    expression: str
    timezone: str = "UTC"
    _five: str = field(init=False, repr=False, compare=False)
    _real_time: bool = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = cronexpr.parse(self.expression)
        object.__setattr__(self, "_five", parsed.canonical)
        object.__setattr__(self, "_real_time", parsed.real_time)
        object.__setattr__(self, "_zone", get_zone(self.timezone))

    @property
    def real_time(self) -> bool:
        return self._real_time

    def next_fire(self, after: datetime) -> datetime | None:
        after = utc(after)
        if self._zone.key == "UTC":
            wall = next(self._walls(after.replace(tzinfo=None)), None)
            return wall.replace(tzinfo=UTC) if wall else None
        if self._real_time:
            return self._next_real_time(after)
        return self._next_wall_clock(after)

    def _walls(self, start: datetime) -> Iterator[datetime]:
        """Matching wall-clock times strictly after ``start`` (naive)."""
        try:
            yield from CronSim(self._five, start)
        except (StopIteration, CronSimError):
            return

    def _next_wall_clock(self, after: datetime) -> datetime | None:
        # Resolved instants never decrease as wall times increase, so the first one past
        # ``after`` is the answer; walls before wall_of(after) resolve to instants before it.
        for wall in self._walls(wall_of(after, self._zone)):
            instant, _ = resolve(wall, self._zone)
            if instant > after:
                return instant
        return None

    def _next_real_time(self, after: datetime) -> datetime | None:
        # When clocks go back soon after ``after``, later instants show earlier wall times:
        # start the search early by as much as the offset drops.
        now_offset = after.astimezone(self._zone).utcoffset()
        later_offset = (after + _LONGEST_OVERLAP).astimezone(self._zone).utcoffset()
        assert now_offset is not None and later_offset is not None
        lookback = max(timedelta(0), now_offset - later_offset)
        start = wall_of(after, self._zone) - lookback
        best: datetime | None = None
        for wall in self._walls(start):
            found = instants(wall, self._zone)
            if best is not None and found and found[0] > best:
                return best
            for instant in found:
                if instant > after and (best is None or instant < best):
                    best = instant
        return best


@dataclass(frozen=True)
class Interval(_FireTimes):
    """Every ``every``, stepped in absolute time from ``anchor`` (default: the Unix epoch)."""

    every: timedelta
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError("an interval must be longer than zero")

    def next_fire(self, after: datetime) -> datetime | None:
        after = utc(after)
        anchor = utc(self.anchor) if self.anchor else EPOCH
        if after < anchor:
            return anchor
        steps = (after - anchor) // self.every + 1
        return anchor + steps * self.every


@dataclass(frozen=True)
class Event(_FireTimes):
    """Fires when an event of ``type`` arrives (matched and debounced by the scheduler).

    ``filter`` maps payload keys to the values they must have.
    """

    type: str
    debounce: timedelta | None = None
    filter: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def next_fire(self, after: datetime) -> datetime | None:
        return None

    def matches(self, event_type: str, payload: dict[str, Any]) -> bool:
        return event_type == self.type and all(
            payload.get(key) == value for key, value in self.filter.items()
        )
