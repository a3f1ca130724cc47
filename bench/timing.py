"""Next-fire computations per second: moonshift's Cron beside plain cronsim and croniter.

Each library answers the same question the scheduler asks: "the next fire after t", from a
fresh start each time, in America/New_York, stepping t through a year. Ratios compare rates
measured in this same run, so a noisy machine moves all three alike.

    make bench            # or: .venv/bin/python bench/timing.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from croniter import croniter
from cronsim import CronSim

from moonshift.timing import Cron, Window, WindowSet
from moonshift.timing.windows import parse_days

ZONE = "America/New_York"
EXPRESSIONS = ["*/5 * * * *", "0 2 * * *", "30 9 * * 1-5", "0 */4 * * *", "0 0 1 * *"]


def rate(step: Callable[[datetime], datetime], seconds: float) -> float:
    """Calls per second of ``step``, chained from a fixed start for ``seconds``."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    t, calls, began = start, 0, time.perf_counter()
    while True:
        for _ in range(100):
            t = step(t)
            if t.year > 2026:
                t = start
        calls += 100
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return calls / elapsed


def ours(expression: str) -> Callable[[datetime], datetime]:
    cron = Cron(expression, ZONE)

    def step(t: datetime) -> datetime:
        fire = cron.next_fire(t)
        assert fire is not None
        return fire

    return step


def plain_cronsim(expression: str) -> Callable[[datetime], datetime]:
    zone = ZoneInfo(ZONE)
    return lambda t: next(CronSim(expression, t.astimezone(zone)))


def plain_croniter(expression: str) -> Callable[[datetime], datetime]:
    zone = ZoneInfo(ZONE)
    return lambda t: croniter(expression, t.astimezone(zone)).get_next(datetime)


def window_rate(seconds: float) -> float:
    windows = WindowSet(
        (
            Window("nightly", parse_days(["weekdays"]), _t("22:00"), _t("06:00"), ZONE),
            Window("weekend", parse_days(["weekends"]), _t("00:00"), _t("00:00"), ZONE),
        )
    )
    rng = random.Random(7)
    probes = [
        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(525_600))
        for _ in range(1000)
    ]
    calls, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for probe in probes[:100]:
            windows.next_open(probe)
        probes = probes[100:] + probes[:100]
        calls += 100
    return calls / (time.perf_counter() - began)


def _t(text: str) -> time_of_day:
    return time_of_day.fromisoformat(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    print(f"next-fire calls per second in {ZONE} (each from a fresh start)")
    header = f"{'expression':<16}{'moonshift':>12}{'cronsim':>12}{'croniter':>12}"
    print(header + f"{'vs cronsim':>12}{'vs croniter':>13}")
    for expression in EXPRESSIONS:
        a = rate(ours(expression), seconds)
        b = rate(plain_cronsim(expression), seconds)
        c = rate(plain_croniter(expression), seconds)
        print(f"{expression:<16}{a:>12,.0f}{b:>12,.0f}{c:>12,.0f}{a / b:>12.2f}{a / c:>13.2f}")
    print(f"WindowSet.next_open: {window_rate(seconds):,.0f} calls per second (2 windows)")


if __name__ == "__main__":
    main()
