"""Brute-force oracles for the timing core, written from the rules, not from the code.

They walk real time minute by minute and ask, for each minute, what the documented rule
says. Slow and obvious on purpose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}


def _values(field: str, low: int, high: int, names: list[str], base: int) -> set[int]:
    def number(text: str) -> int:
        return names.index(text.upper()) + base if text.upper() in names else int(text)

    found: set[int] = set()
    for item in field.split(","):
        part, _, step = item.partition("/")
        if part == "*":
            a, b = low, high
        elif "-" in part:
            a, b = (number(x) for x in part.split("-"))
        else:
            a = number(part)
            b = high if step else a
        found |= set(range(a, b + 1, int(step or 1)))
    return found


class CronOracle:
    def __init__(self, expression: str, zone: str) -> None:
        fields = MACROS.get(expression, expression).split()
        self.minutes = _values(fields[0], 0, 59, [], 0)
        self.hours = _values(fields[1], 0, 23, [], 0)
        self.doms = _values(fields[2], 1, 31, [], 1)
        self.months = _values(fields[3], 1, 12, MONTHS, 1)
        self.dows = {d % 7 for d in _values(fields[4], 0, 7, DAYS, 0)}
        self.either_day = not fields[2].startswith("*") and not fields[4].startswith("*")
        self.real_time = "*" in fields[1] or "/" in fields[1]
        self.zone = ZoneInfo(zone)

    def matches(self, wall: datetime) -> bool:
        if wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months:
            return False
        dom, dow = wall.day in self.doms, (wall.isoweekday() % 7) in self.dows
        return (dom or dow) if self.either_day else (dom and dow)

    def fires_at(self, t: datetime) -> bool:
        """Does the schedule fire at minute ``t`` (UTC)? The rule of docs/timing.md."""
        local = t.astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        if self.real_time:
            return self.matches(wall)
        if self.matches(wall) and local.fold == 0:
            return True
        before = (t - MINUTE).astimezone(self.zone).replace(tzinfo=None)
        skipped = before + MINUTE
        while skipped < wall:  # clocks jumped: the wall minutes in the gap fire now, once
            if self.matches(skipped):
                return True
            skipped += MINUTE
        return False

    def next_fire(self, after: datetime, horizon: timedelta) -> datetime | None:
        t = after.replace(second=0, microsecond=0) + MINUTE
        end = after + horizon
        while t <= end:
            if self.fires_at(t):
                return t
            t += MINUTE
        return None


def first_instant_showing(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose wall clock reads ``wall`` or later (the DST rule, brute force)."""
    guess = wall.replace(tzinfo=UTC)
    offsets = {(guess + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-36, 37)}
    low = guess - max(o for o in offsets if o is not None)
    high = guess - min(o for o in offsets if o is not None)
    t = low
    while t < high and t.astimezone(zone).replace(tzinfo=None) < wall:
        t += MINUTE
    return t


class WindowOracle:
    """``windows`` is a list of dicts: days (set of 0=Mon..6), start, end, zone, exclude, from, until."""

    def __init__(self, windows: list[dict[str, object]], around: datetime, days: int) -> None:
        self.intervals: list[tuple[datetime, datetime, ZoneInfo, frozenset[date]]] = []
        for w in windows:
            zone = ZoneInfo(str(w["zone"]))
            first = around.astimezone(zone).date() - timedelta(days=3)
            for n in range(days + 6):
                day = first + timedelta(days=n)
                if day.weekday() not in w["days"]:  # type: ignore[operator]
                    continue
                if (w.get("from") and day < w["from"]) or (w.get("until") and day > w["until"]):  # type: ignore[operator]
                    continue
                start, end = w["start"], w["end"]
                assert isinstance(start, time) and isinstance(end, time)
                close_day = day + timedelta(days=1) if end <= start else day
                opens = first_instant_showing(datetime.combine(day, start), zone)
                closes = first_instant_showing(datetime.combine(close_day, end), zone)
                self.intervals.append((opens, closes, zone, frozenset(w.get("exclude", ()))))  # type: ignore[arg-type]

    def is_open(self, t: datetime) -> bool:
        return any(
            a <= t < b and t.astimezone(zone).date() not in excluded
            for a, b, zone, excluded in self.intervals
        )

    def next_open(self, t: datetime, horizon: timedelta) -> datetime | None:
        if self.is_open(t):
            return t
        m = t.replace(second=0, microsecond=0) + MINUTE
        while m <= t + horizon:
            if self.is_open(m):
                return m
            m += MINUTE
        return None
