"""The timing core against brute-force oracles, over random expressions, zones and instants."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, note
from hypothesis import strategies as st

from moonshift.timing import Cron, Interval, Window, WindowSet
from tests.oracle import CronOracle, WindowOracle

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "UTC",
    "Europe/London",
    "Pacific/Chatham",
    "America/Santiago",
]
HORIZON = timedelta(days=40)
SPAN = timedelta(hours=36)  # of fire_times checked against next_fire


def _transitions(zone: str) -> list[datetime]:
    tz, found = ZoneInfo(zone), []
    t = datetime(2024, 1, 1, tzinfo=UTC)
    while t.year < 2029:
        if (t + timedelta(hours=1)).astimezone(tz).utcoffset() != t.astimezone(tz).utcoffset():
            found.append(t)
        t += timedelta(hours=1)
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """Instants in 2024-2028, often within hours of a DST change in ``zone``."""
    changes = TRANSITIONS[zone]
    if changes and draw(st.booleans()):
        base = draw(st.sampled_from(changes))
        return base + timedelta(seconds=draw(st.integers(-30 * 3600, 6 * 3600)))  # see SPAN
    seconds = draw(st.integers(0, 5 * 365 * 86400))
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _field(draw: st.DrawFn, low: int, high: int, common: list[int]) -> str:
    value = st.sampled_from(common) | st.integers(low, high)
    shape = draw(st.sampled_from(["*", "step", "one", "range", "list", "range-step"]))
    if shape == "*":
        return "*"
    if shape == "step":
        return f"*/{draw(st.integers(1, max(2, (high - low) // 2)))}"
    if shape == "one":
        return str(draw(value))
    a, b = sorted((draw(value), draw(value)))
    if shape == "range":
        return f"{a}-{b}"
    if shape == "range-step":
        return f"{a}-{b}/{draw(st.integers(1, 5))}"
    return ",".join(sorted({str(draw(value)) for _ in range(draw(st.integers(2, 4)))}, key=int))


@st.composite
def expressions(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(["@hourly", "@daily", "@weekly", "@monthly", "@yearly"]))
    minute = _field(draw, 0, 59, [0, 15, 30, 45])
    hour = _field(draw, 0, 23, [0, 1, 2, 3])
    dom = "*" if draw(st.integers(0, 3)) else _field(draw, 1, 31, [1, 15, 28, 29, 30, 31])
    month = (
        "*"
        if draw(st.integers(0, 5))
        else draw(st.sampled_from(["3-11", "*/2", "MAR,OCT,NOV", "4", "JAN-JUN"]))
    )
    dow = (
        "*"
        if draw(st.integers(0, 2))
        else draw(st.sampled_from(["1-5", "MON-FRI", "0,6", "7", "SAT", "*/2", "2"]))
    )
    return f"{minute} {hour} {dom} {month} {dow}"


@st.composite
def cron_cases(draw: st.DrawFn) -> tuple[str, str, datetime]:
    zone = draw(st.sampled_from(ZONES))
    return draw(expressions()), zone, draw(instants(zone))


@given(cron_cases())
def test_cron_next_fire_matches_the_oracle(case: tuple[str, str, datetime]) -> None:
    expression, zone, after = case
    ours = Cron(expression, zone).next_fire(after)
    expected = CronOracle(expression, zone).next_fire(after, HORIZON)
    note(f"ours={ours} expected={expected}")
    if expected is None:
        assert ours is None or ours > after + HORIZON
    else:
        assert ours == expected


@given(cron_cases())
def test_cron_fire_times_strictly_increase(case: tuple[str, str, datetime]) -> None:
    expression, zone, start = case
    cron = Cron(expression, zone)
    # 36 hours: a start drawn near a DST change (30 h before it to 6 h after) spans it
    end = start + SPAN
    fires = list(cron.fire_times(start, end))
    assert all(a < b for a, b in itertools.pairwise(fires))
    assert all(start <= f < end for f in fires)
    previous = start - timedelta(microseconds=1)
    for fire in fires:
        assert cron.next_fire(previous) == fire
        previous = fire


@given(st.integers(1, 10**6), st.sampled_from(ZONES).flatmap(instants))
def test_interval_steps_in_absolute_time(seconds: int, after: datetime) -> None:
    every = timedelta(seconds=seconds)
    fire = Interval(every).next_fire(after)
    assert fire is not None
    assert after < fire <= after + every
    assert (fire - datetime(1970, 1, 1, tzinfo=UTC)) % every == timedelta(0)


@st.composite
def window_cases(draw: st.DrawFn) -> tuple[list[dict[str, object]], datetime]:
    zone = draw(st.sampled_from(ZONES))
    at = draw(instants(zone))
    windows = []
    for _ in range(draw(st.integers(1, 3))):
        wzone = zone if draw(st.booleans()) else draw(st.sampled_from(ZONES))
        hour = st.sampled_from([0, 1, 2, 3, 22, 23]) | st.integers(0, 23)
        minute = st.sampled_from([0, 15, 30, 45]) | st.integers(0, 59)
        local_day = at.astimezone(ZoneInfo(wzone)).date()
        spec: dict[str, object] = {
            "days": draw(st.sets(st.integers(0, 6), min_size=1)),
            "start": time(draw(hour), draw(minute)),
            "end": time(draw(hour), draw(minute)),
            "zone": wzone,
            "exclude": draw(
                st.sets(
                    st.integers(-3, 8).map(lambda n, d=local_day: d + timedelta(days=n)), max_size=2
                )
            ),
        }
        if draw(st.integers(0, 4)) == 0:
            spec["from"] = local_day + timedelta(days=draw(st.integers(-2, 3)))
        if draw(st.integers(0, 4)) == 0:
            spec["until"] = local_day + timedelta(days=draw(st.integers(0, 6)))
        windows.append(spec)
    return windows, at


def _window_set(specs: list[dict[str, object]]) -> WindowSet:
    return WindowSet(
        tuple(
            Window(
                name=f"w{i}",
                days=frozenset(s["days"]),
                start=s["start"],
                end=s["end"],  # type: ignore[arg-type]
                timezone=str(s["zone"]),
                from_date=s.get("from"),
                until=s.get("until"),  # type: ignore[arg-type]
                exclude_dates=frozenset(s["exclude"]),  # type: ignore[arg-type]
            )
            for i, s in enumerate(specs)
        )
    )


@given(window_cases())
def test_window_is_open_matches_the_oracle(case: tuple[list[dict[str, object]], datetime]) -> None:
    specs, at = case
    oracle = WindowOracle(specs, at, days=4)
    windows = _window_set(specs)
    for probe in (at, at + timedelta(minutes=17), at + timedelta(hours=5), at + timedelta(days=1)):
        assert windows.is_open(probe) == oracle.is_open(probe), probe


@given(window_cases())
def test_window_next_open_matches_the_oracle(
    case: tuple[list[dict[str, object]], datetime],
) -> None:
    specs, at = case
    horizon = timedelta(days=8)
    oracle = WindowOracle(specs, at, days=10)
    expected = oracle.next_open(at, horizon)
    ours = _window_set(specs).next_open(at)
    note(f"ours={ours} expected={expected}")
    if expected is None:
        assert ours is None or ours > at + horizon
    else:
        assert ours == expected


@given(window_cases())
def test_window_current_span_matches_the_oracle(
    case: tuple[list[dict[str, object]], datetime],
) -> None:
    specs, at = case
    windows = _window_set(specs)
    span = windows.current(at)
    oracle = WindowOracle(specs, at, days=10)
    assert (span is not None) == oracle.is_open(at)
    if span is None or span.closes_at is None or span.closes_at - at > timedelta(days=6):
        return
    assert oracle.is_open(span.closes_at - timedelta(minutes=1))
    assert not oracle.is_open(span.closes_at)
    assert windows.closes_at(at) == span.closes_at
    assert not windows.is_open(span.closes_at)


def test_oracle_sanity() -> None:
    # The oracle itself must see the nonexistent 02:30 and the repeated 01:30.
    gap = CronOracle("30 2 * * *", "America/New_York").next_fire(
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC), HORIZON
    )
    assert gap == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert date(2026, 3, 8) == gap.astimezone(ZoneInfo("America/New_York")).date()
