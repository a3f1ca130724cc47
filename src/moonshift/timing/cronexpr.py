"""Cron expressions: checking them field by field, and which DST mode they run in."""

from __future__ import annotations

import re
from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)}),
    _Field("day-of-week", 0, 7, {n: i for i, n in enumerate(_DAYS)}),
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronError(ValueError):
    """A cron expression that cannot be used; the message names the field and value."""


@dataclass(frozen=True)
class ParsedCron:
    """A checked expression: ``canonical`` is what cronsim evaluates."""

    canonical: str
    real_time: bool


def parse(expression: str) -> ParsedCron:
    """Check an expression field by field (macros expanded); CronError names what is wrong.

    Fields that start with ``*`` are kept (cron's day-of-month/day-of-week rule depends on
    it); the others become explicit lists, which also sidesteps cronsim reading ``5-5/2``
    as ``5/2`` (every value from 5 up).
    """
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise CronError(f'unknown macro "{text}"; use one of {", ".join(MACROS)}')
        text = MACROS[text.lower()]
    parts = text.split(" ")
    if len(parts) != 5:
        raise CronError(
            f"needs 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    values = [_parse(part, field) for part, field in zip(parts, FIELDS, strict=True)]
    _check_day_exists(parts, values)
    values[4] = {day % 7 for day in values[4]}
    canonical = " ".join(
        part.upper() if part.startswith("*") else ",".join(map(str, sorted(found)))
        for part, found in zip(parts, values, strict=True)
    )
    return ParsedCron(canonical, real_time="*" in parts[1] or "/" in parts[1])


def _parse(text: str, field: _Field) -> set[int]:
    found: set[int] = set()
    for item in text.split(","):
        found |= _parse_item(item, field, text)
    return found


def _parse_item(item: str, field: _Field, whole: str) -> set[int]:
    def bad(why: str) -> CronError:
        return CronError(f'{field.name} field "{whole}": {why}')

    if not item:
        raise bad("empty list item")
    base, _, step_text = item.partition("/")
    step = 1
    if step_text or item.endswith("/"):
        if not step_text.isdigit() or int(step_text) < 1:
            raise bad(f'step "{step_text}" must be a whole number of at least 1')
        step = int(step_text)
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field, bad), _value(last, field, bad)
        if low > high:
            raise bad(f"range {base} is backwards")
    else:
        low = _value(base, field, bad)
        high = field.high if step_text else low
    return set(range(low, high + 1, step))


def _value(text: str, field: _Field, bad: object) -> int:
    assert callable(bad)
    upper = text.upper()
    if upper in field.names:
        return field.names[upper]
    if not re.fullmatch(r"\d+", text):
        allowed = f" or a name like {next(iter(field.names))}" if field.names else ""
        raise bad(f'"{text}" is not a number{allowed}')
    value = int(text)
    if not field.low <= value <= field.high:
        raise bad(f"{value} is out of range {field.low}-{field.high}")
    return value


def _check_day_exists(parts: list[str], values: list[set[int]]) -> None:
    days, months = values[2], values[3]
    day_or_week_is_free = parts[2].startswith("*") or parts[4].startswith("*")
    if day_or_week_is_free and min(days) > max(_DAYS_IN_MONTH[m - 1] for m in months):
        raise CronError(
            f'day-of-month field "{parts[2]}": no month in "{parts[3]}" has day {min(days)}'
        )
