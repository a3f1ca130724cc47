"""Spec keys for timing: ``schedule``, ``windows`` and ``window_behavior``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field, field_validator, model_validator

from moonshift.domain.spec_base import (
    CallablePath,
    Duration,
    FieldProblem,
    Flag,
    Lasting,
    SpecModel,
    Whole,
)
from moonshift.timing import (
    Cron,
    CronError,
    Event,
    Interval,
    Once,
    OutsideWindow,
    Trigger,
    UnknownZoneError,
    WallKind,
    Window,
    WindowBehavior,
    WindowSet,
    get_zone,
)
from moonshift.timing.windows import parse_days
from moonshift.timing.zones import describe

SCHEDULE_KINDS = ("immediate", "start_at", "cron", "interval", "event")
# A window written to end at 23:59 lasts to the end of the day (docs/timing.md), so that
# Saturday 00:00-23:59 and Sunday 00:00-23:59 make one weekend, not two days a minute apart.
LAST_MINUTE, END_OF_DAY = time(23, 59), time(0, 0)


def _zone_name(value: object) -> object:
    if isinstance(value, str):
        try:
            get_zone(value)
        except UnknownZoneError as exc:
            raise ValueError(str(exc)) from None
    return value


def _clock_time(value: object) -> object:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f'must be a time of day like 22:00, got "{value}"') from None
    return value


def _timestamp(value: object) -> object:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'must be a date and time like 2026-02-03T02:00:00, got "{value}"'
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


ZoneName = Annotated[str, BeforeValidator(_zone_name)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]


class EventSpec(SpecModel):
    type: str = Field(min_length=1)
    debounce: Duration | None = None
    filter: dict[str, Any] = Field(default_factory=dict)
    # ``package.module:function``: called with the event (an ``IncomingEvent``) where the
    # event is received; the schedule fires only when it returns true.
    filter_callable: CallablePath | None = None


class ScheduleSpec(SpecModel):
    """Exactly one of immediate, start_at, cron, interval or event."""

    immediate: Flag | None = None
    start_at: Timestamp | None = None
    cron: str | None = None
    interval: Lasting | None = None
    anchor: Timestamp | None = None
    event: EventSpec | None = None
    timezone: ZoneName = "UTC"

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduleSpec:
        given = [k for k in SCHEDULE_KINDS if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise FieldProblem("", f"give exactly one of {', '.join(SCHEDULE_KINDS)}; got {got}")
        if self.cron is not None:
            try:
                Cron(self.cron, self.timezone)
            except CronError as exc:
                raise FieldProblem("cron", str(exc)) from None
        if self.anchor is not None and self.interval is None:
            raise FieldProblem("anchor", "only goes with interval")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SCHEDULE_KINDS if getattr(self, k) not in (None, False))

    def trigger(self) -> Trigger | None:
        """The trigger; None for ``immediate`` (started once, as soon as it is applied)."""
        zone = get_zone(self.timezone)
        if self.start_at is not None:
            return Once(self.start_at, self.timezone)
        if self.cron is not None:
            return Cron(self.cron, self.timezone)
        if self.interval is not None:
            anchor = self.anchor
            if anchor is not None and anchor.tzinfo is None:
                anchor = anchor.replace(tzinfo=zone)
            return Interval(self.interval, anchor)
        if self.event is not None:
            return Event(self.event.type, self.event.debounce, MappingProxyType(self.event.filter))
        return None

    def notes(self) -> list[tuple[str, str]]:
        """Warnings worth a user's eye: a start_at that DST moves or makes ambiguous."""
        if self.start_at is None or self.start_at.tzinfo is not None:
            return []
        once = Once(self.start_at, self.timezone)
        zone = get_zone(self.timezone)
        wall = f"{self.start_at:%Y-%m-%d %H:%M} does not exist in {self.timezone}"
        if once.wall_kind is WallKind.GAP:
            return [
                (
                    "start_at",
                    f"{wall} (clocks go forward); it will fire at {describe(once.instant, zone)}",
                )
            ]
        if once.wall_kind is WallKind.OVERLAP:
            text = (
                f"{self.start_at:%Y-%m-%d %H:%M} occurs twice in {self.timezone} (clocks go back)"
            )
            return [
                ("start_at", f"{text}; it will fire at the first, {describe(once.instant, zone)}")
            ]
        return []


class WindowSpec(SpecModel):
    name: str = Field(min_length=1)
    days: tuple[str | Whole, ...] = ("daily",)
    start: ClockTime = Field(validation_alias=AliasChoices("start", "start_time"))
    end: ClockTime = Field(validation_alias=AliasChoices("end", "end_time"))
    timezone: ZoneName | None = None
    from_: date | None = Field(
        default=None, validation_alias=AliasChoices("from", "from_"), serialization_alias="from"
    )
    until: date | None = None
    exclude_dates: tuple[date, ...] = ()

    @field_validator("days")
    @classmethod
    def _days(cls, days: tuple[str | int, ...]) -> tuple[str | int, ...]:
        if not days:
            raise ValueError("must name at least one day")
        parse_days(days)
        return days

    @model_validator(mode="after")
    def _not_empty(self) -> WindowSpec:
        if self.from_ and self.until and self.until < self.from_:
            raise FieldProblem("until", f"is before from ({self.from_}): the window never opens")
        return self

    def window(self, default_zone: str) -> Window:
        return Window(
            name=self.name,
            days=parse_days(self.days),
            start=self.start,
            end=END_OF_DAY if self.end == LAST_MINUTE else self.end,
            timezone=self.timezone or default_zone,
            from_date=self.from_,
            until=self.until,
            exclude_dates=frozenset(self.exclude_dates),
        )


class WindowBehaviorSpec(SpecModel):
    outside_window: OutsideWindow = OutsideWindow.PAUSE
    ending_warning: Duration = Field(
        default=timedelta(minutes=30),
        validation_alias=AliasChoices("ending_warning", "window_ending_warning"),
    )
    complete_current_batch: Flag = True

    def behavior(self) -> WindowBehavior:
        return WindowBehavior(self.outside_window, self.ending_warning, self.complete_current_batch)


def window_set(windows: tuple[WindowSpec, ...], default_zone: str) -> WindowSet | None:
    return WindowSet(tuple(w.window(default_zone) for w in windows)) if windows else None
