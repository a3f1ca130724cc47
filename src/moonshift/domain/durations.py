"""Durations as users write them: ``30s``, ``15m``, ``1h30m``, ``2d``, or ISO 8601 ``PT1H30M``."""

from __future__ import annotations

import math
import re
from datetime import timedelta

# A longer duration is a typo, and added to a date it would pass the year 9999.
LONGEST = timedelta(days=36500)
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_COMPACT = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")
_ISO = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


class DurationError(ValueError):
    """The text is not a duration."""


def parse_duration(value: object) -> timedelta:
    """Parse a duration; a bare number counts as seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise DurationError(_must_be(value))
    if isinstance(value, int | float):
        if not 0 <= value < math.inf:
            raise DurationError(_must_be(value))
        return _bounded(value, value)
    if not isinstance(value, str):
        raise DurationError(_must_be(value))
    text = value.strip()
    seconds = _parse_compact(text.lower()) if text else None
    if seconds is None:
        seconds = _parse_iso(text.upper())
    if seconds is None:
        raise DurationError(_must_be(value))
    return _bounded(seconds, value)


def _bounded(seconds: float, value: object) -> timedelta:
    if seconds > LONGEST.total_seconds():
        raise DurationError(f"must be at most {LONGEST.days}d, got {_shown(value)}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The compact form, e.g. ``1h30m``; ``0s`` for zero."""
    total = value.total_seconds()
    whole = int(total)
    parts = []
    for unit, size in _UNITS.items():
        if unit == "w":
            continue
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    fraction = total - int(total)
    if fraction:
        seconds = (int(total) % 60) + fraction
        parts = [p for p in parts if not p.endswith("s")] + [f"{seconds:g}s"]
    return "".join(parts) or "0s"


def _parse_compact(text: str) -> float | None:
    match = _COMPACT.fullmatch(text)
    if not match or not any(match.groups()):
        if text.isdigit():
            return float(text)
        return None
    return sum(
        float(g) * size for g, size in zip(match.groups(), _UNITS.values(), strict=True) if g
    )


def _parse_iso(text: str) -> float | None:
    match = _ISO.fullmatch(text)
    if not match or not any(match.groupdict().values()) or text.endswith("T"):
        return None
    return sum(float(v) * _UNITS[k] for k, v in match.groupdict().items() if v)


def _must_be(value: object) -> str:
    return f"must be a duration like 30m, got {_shown(value)}"


def _shown(value: object) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
