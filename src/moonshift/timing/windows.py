"""Maintenance windows: when runs may execute.

A window opens on each of its days at ``start`` and closes at ``end`` on the same day, or
on the next day when ``end`` is at or before ``start`` (a Friday 22:00-06:00 window closes
on Saturday at 06:00). Bounds are wall-clock times in the window's zone, resolved by the DST
rule, so a 22:00-06:00 window lasts nine hours on the night clocks go back. Every excluded
date removes that whole local day. Overlapping or touching windows merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from moonshift.timing.zones import get_zone, resolve, utc

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far to look for a window's next opening, or for the end of a chain of windows.
SEARCH_LIMIT = timedelta(days=5 * 366)
_CHUNK = timedelta(days=32)


@dataclass(frozen=True)
class Window:
    name: str
    days: frozenset[int]  # 0 is Monday
    start: time
    end: time
    timezone: str = "UTC"
    from_date: date | None = None
    until: date | None = None
    exclude_dates: frozenset[date] = frozenset()

    def spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """This window's open intervals (UTC, half-open) that overlap ``[start, end)``."""
        zone = get_zone(self.timezone)
        first = start.astimezone(zone).date() - timedelta(days=2)
        last = end.astimezone(zone).date() + timedelta(days=1)
        found = []
        for day in _days(first, last):
            if day.weekday() not in self.days:
                continue
            if (self.from_date and day < self.from_date) or (self.until and day > self.until):
                continue
            opens = resolve(datetime.combine(day, self.start), zone)[0]
            close_day = day + timedelta(days=1) if self.end <= self.start else day
            closes = resolve(datetime.combine(close_day, self.end), zone)[0]
            found += _subtract(opens, closes, self._excluded(day, close_day))
        return [(a, b) for a, b in found if b > start and a < end]

    def _excluded(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        zone = get_zone(self.timezone)
        return [
            (
                resolve(datetime.combine(day, time()), zone)[0],
                resolve(datetime.combine(day + timedelta(days=1), time()), zone)[0],
            )
            for day in _days(first, last)
            if day in self.exclude_dates
        ]


@dataclass(frozen=True)
class WindowSpan:
    """A stretch of time during which at least one window is open."""

    opens_at: datetime
    closes_at: datetime | None  # None: no close within the search limit
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        return " + ".join(self.names)


@dataclass(frozen=True)
class WindowSet:
    windows: tuple[Window, ...]
    _limit: timedelta = field(default=SEARCH_LIMIT, repr=False)

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("a window set needs at least one window")

    def is_open(self, t: datetime) -> bool:
        t = utc(t)
        return any(
            a <= t < b for a, b, _ in self._merged(t - timedelta(days=1), t + timedelta(days=1))
        )

    def current(self, t: datetime) -> WindowSpan | None:
        """The open stretch holding ``t`` (when it opened, when it will close), or None."""
        t = utc(t)
        reach = timedelta(days=8)
        while True:
            for a, b, names in self._merged(t - reach, t + reach):
                if a <= t < b:
                    if (a > t - reach and b < t + reach) or reach >= self._limit:
                        return WindowSpan(a, b if b < t + reach else None, names)
                    break
            else:
                return None
            reach *= 4

    def closes_at(self, t: datetime) -> datetime | None:
        span = self.current(t)
        return span.closes_at if span else None

    def next_open(self, t: datetime) -> datetime | None:
        """The first instant at or after ``t`` at which a window is open, or None."""
        t = utc(t)
        low, chunk = t, timedelta(days=2)  # most openings are near: look close first
        while low - t < self._limit:
            high = low + chunk
            for a, b, _ in self._merged(low, high):
                if b > t:
                    return max(a, t)
            low, chunk = high, min(chunk * 2, _CHUNK)
        return None

    def upcoming(self, t: datetime, count: int) -> list[WindowSpan]:
        """The stretch open at ``t`` (if any) and the next ones to open, ``count`` in all."""
        t = utc(t)
        current = self.current(t)
        found = [current] if current else []
        low = t
        while len(found) < count and low - t < self._limit:
            for span in self.spans(low, low + _CHUNK):
                if span.opens_at > t and len(found) < count:
                    found.append(span)
            low += _CHUNK
        return found

    def spans(self, start: datetime, end: datetime) -> Iterator[WindowSpan]:
        """The open stretches that begin in ``[start, end)``, merged."""
        start, end = utc(start), utc(end)
        for a, b, names in self._merged(start - timedelta(days=2), end + timedelta(days=2)):
            if start <= a < end:
                yield WindowSpan(a, b, names)

    def _merged(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, tuple[str, ...]]]:
        pieces = sorted((a, b, w.name) for w in self.windows for a, b in w.spans(start, end))
        merged: list[tuple[datetime, datetime, tuple[str, ...]]] = []
        for a, b, name in pieces:
            if merged and a <= merged[-1][1]:
                last_a, last_b, names = merged[-1]
                names = names if name in names else (*names, name)
                merged[-1] = (last_a, max(last_b, b), names)
            else:
                merged.append((a, b, (name,)))
        return merged


def parse_days(values: Iterable[str | int]) -> frozenset[int]:
    """Day names (``mon``, ``monday``), numbers (0 or 7 is Sunday), ``daily``, ``weekdays``,
    ``weekends``."""
    days: set[int] = set()
    for value in values:
        text = str(value).strip().lower()
        if text in ("daily", "everyday", "every day", "all"):
            days |= set(range(7))
        elif text in ("weekdays", "weekday"):
            days |= set(range(5))
        elif text in ("weekends", "weekend"):
            days |= {5, 6}
        elif text[:3] in DAY_NAMES and (len(text) == 3 or _full_name(text)):
            days.add(DAY_NAMES.index(text[:3]))
        elif text.isdigit() and int(text) <= 7:
            days.add((int(text) - 1) % 7)
        else:
            raise ValueError(f'"{value}" is not a day; use mon..sun, weekdays, weekends or daily')
    return frozenset(days)


def _full_name(text: str) -> bool:
    return text in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _subtract(
    opens: datetime, closes: datetime, holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    parts = [(opens, closes)] if closes > opens else []
    for hole_a, hole_b in holes:
        parts = [
            piece
            for a, b in parts
            for piece in ((a, min(b, hole_a)), (max(a, hole_b), b))
            if piece[1] > piece[0]
        ]
    return parts
