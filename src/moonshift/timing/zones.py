"""Time zones, and the DST rule that maps a wall-clock time to one instant.

The rule (docs/timing.md): a wall-clock time that does not exist (it falls in a gap when
clocks go forward) means the first instant after the gap; a wall-clock time that occurs
twice (clocks go back) means its first occurrence.
"""

from __future__ import annotations

import difflib
import functools
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class UnknownZoneError(ValueError):
    """Not an IANA time zone name; the message suggests the closest ones."""


class WallKind(StrEnum):
    NORMAL = "normal"
    GAP = "gap"  # skipped when clocks went forward
    OVERLAP = "overlap"  # repeated when clocks went back


@functools.cache
def get_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; UnknownZoneError with suggestions if there is none."""
    try:
        if name and not name.startswith(("/", ".")) and ".." not in name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, _zone_names(), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownZoneError(f'unknown time zone "{name}"{hint}')


@functools.cache
def _zone_names() -> list[str]:
    return sorted(available_timezones())


def utc(instant: datetime) -> datetime:
    """An aware instant, in UTC; naive datetimes are refused, never guessed."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: give an aware instant")
    return instant.astimezone(UTC)


def wall_of(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time an instant shows in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def classify(wall: datetime, zone: ZoneInfo) -> WallKind:
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return WallKind.NORMAL
    return WallKind.OVERLAP if first < second else WallKind.GAP


def resolve(wall: datetime, zone: ZoneInfo) -> tuple[datetime, WallKind]:
    """The instant (UTC) a wall-clock time stands for under the DST rule, and its kind."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first, WallKind.NORMAL
    if first < second:
        return first, WallKind.OVERLAP
    return _transition_between(second, first, zone), WallKind.GAP


def instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every instant showing this wall-clock time: none in a gap, two in an overlap."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    return [first, second] if first < second else []


def _transition_between(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (low, high] whose UTC offset is that of ``high`` (to the second)."""
    target = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high


def describe(instant: datetime, zone: ZoneInfo) -> str:
    """``2026-03-08 03:00 EDT (07:00 UTC)``; the UTC date too where it is another day
    (``2030-01-07 22:00 EST (2030-01-08 03:00 UTC)``)."""
    local, universal = instant.astimezone(zone), utc(instant)
    shown = "%H:%M" if universal.date() == local.date() else "%Y-%m-%d %H:%M"
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({universal.strftime(shown)} UTC)"
