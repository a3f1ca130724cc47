"""Which due fires become runs: the misfire rule, pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from moonshift.domain.durations import format_duration
from moonshift.domain.policies import MisfirePolicy, MisfireSpec
from moonshift.timing import Trigger

# Past this many missed fires (a long outage of a frequent schedule) the rest are dropped
# in one summary instead of one record each.
ENUMERATION_LIMIT = 20_000


@dataclass(frozen=True)
class FirePlan:
    fires: list[datetime] = field(default_factory=list)  # nominal times that become runs
    dropped: list[tuple[datetime, str]] = field(default_factory=list)
    next_fire_at: datetime | None = None
    last_fire_at: datetime | None = None


def plan_fires(
    trigger: Trigger, next_fire_at: datetime, now: datetime, misfire: MisfireSpec
) -> FirePlan:
    """The fires from ``next_fire_at`` up to ``now``, by the misfire policy.

    A fire late by no more than ``grace`` always runs. Of the fires missed by more:
    ``latest`` runs the newest only if no fire ran on time, ``all`` runs them all, ``skip``
    runs none. At most ``max`` run (the newest); every other fire is dropped with its reason.
    """
    fires: list[datetime] = []
    t: datetime | None = next_fire_at
    while t is not None and t <= now and len(fires) < ENUMERATION_LIMIT:
        fires.append(t)
        t = trigger.next_fire(t)
    overflow: list[tuple[datetime, str]] = []
    if t is not None and t <= now:
        overflow = [(t, f"and every later fire up to {now.isoformat()}: the outage was too long")]
        t = trigger.next_fire(now)
    late = [f for f in fires if now - f > misfire.grace]
    on_time = [f for f in fires if now - f <= misfire.grace]
    if misfire.policy is MisfirePolicy.ALL:
        keep = fires
    elif misfire.policy is MisfirePolicy.SKIP:
        keep = on_time
    else:
        keep = on_time or late[-1:]
    allowed = set(keep)
    if len(keep) > misfire.max:
        keep = keep[-misfire.max :]
    kept = set(keep)
    dropped = [(f, _why(f, now, misfire, f in allowed)) for f in fires if f not in kept]
    return FirePlan(keep, dropped + overflow, t, fires[-1] if fires else None)


def _why(fire: datetime, now: datetime, misfire: MisfireSpec, allowed: bool) -> str:
    missed = format_duration(now - fire)
    if allowed:
        return f"missed by {missed}; misfire max {misfire.max} reached"
    grace = format_duration(misfire.grace)
    return f"missed by {missed} (grace {grace}); misfire policy {misfire.policy.value}"
