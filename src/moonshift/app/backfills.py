"""Backfills: each fire of a schedule in a past range becomes a BACKFILL run with that fire
as its logical date; a daemon runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain import lifecycle
from moonshift.errors import InvalidInput
from moonshift.store.records import Trigger
from moonshift.store.scheduling import NewRun
from moonshift.timing import Event, UnknownZoneError, get_zone, resolve

REPROCESS = ("missing", "failed", "all")


@dataclass(frozen=True)
class Plan:
    migration_id: str
    start: datetime
    end: datetime
    reprocess: str
    fires: list[datetime]
    runs: list[NewRun]  # what it would create: new runs, and new attempts to re-process

    def view(self) -> views.BackfillPlan:
        return views.BackfillPlan(
            start=self.start,
            end=self.end,
            reprocess=self.reprocess,
            fires=self.fires,
            runs=[r.nominal_time for r in self.runs],
            reprocessed=sum(1 for r in self.runs if r.retry_of is not None),
            already_done=len(self.fires) - len(self.runs),
        )


class Backfills(Family):
    def plan(
        self,
        migration_id: str,
        start: date | datetime,
        end: date | datetime,
        *,
        reprocess: str = "missing",
        max_runs: int = 10_000,
        timezone: str | None = None,
    ) -> views.BackfillPlan:
        """What a backfill would run; changes nothing."""
        return self._plan(migration_id, start, end, reprocess, max_runs, timezone).view()

    def _plan(
        self,
        migration_id: str,
        start: date | datetime,
        end: date | datetime,
        reprocess: str,
        max_runs: int,
        timezone: str | None = None,
    ) -> Plan:
        """``timezone``: where dates and naive times of the range are read (default: the
        migration's zone)."""
        spec = self.ctx.spec_of(migration_id)
        trigger = spec.trigger()
        if trigger is None or isinstance(trigger, Event):
            raise InvalidInput(
                None,
                f'"{migration_id}" has no cron, interval or start_at schedule to backfill '
                "(event and immediate schedules cannot be backfilled)",
            )
        if reprocess not in REPROCESS:
            raise InvalidInput(
                "reprocess", f'must be one of {", ".join(REPROCESS)}, got "{reprocess}"'
            )
        zone = self._zone(timezone or spec.timezone)
        start_at, end_at = _instant(start, zone), _instant(end, zone, end_of_day=True)
        if end_at <= start_at:
            raise InvalidInput("end", "must be after start")
        fires = list(islice(trigger.fire_times(start_at, end_at), max_runs + 1))
        if len(fires) > max_runs:
            raise InvalidInput(
                "max_runs", f"the range holds more than {max_runs} fires; narrow it or raise it"
            )
        latest = self.store.latest_attempts(migration_id, start_at, end_at)
        runs = []
        for fire in fires:
            run = latest.get(fire)
            if run is None:
                runs.append(NewRun(fire, Trigger.BACKFILL, logical_date=fire))
            elif reprocess == "all" or (
                reprocess == "failed" and run.state in lifecycle.ENDED_BADLY
            ):
                runs.append(
                    NewRun(
                        fire,
                        Trigger.BACKFILL,
                        logical_date=fire,
                        attempt=run.attempt + 1,
                        retry_of=run.id,
                        reason=f"backfill re-processes run {run.id}",
                    )
                )
        return Plan(migration_id, start_at, end_at, reprocess, fires, runs)

    def create(
        self,
        migration_id: str,
        start: date | datetime,
        end: date | datetime,
        *,
        actor: str,
        parallel: int = 1,
        reprocess: str = "missing",
        max_runs: int = 10_000,
        require_daemon: bool = True,
        timezone: str | None = None,
    ) -> views.Backfill:
        """Queue the backfill's runs for a daemon (Unavailable when none runs, unless the
        caller runs one itself)."""
        if parallel < 1:
            raise InvalidInput("parallel", "must be at least 1")
        plan = self._plan(migration_id, start, end, reprocess, max_runs, timezone)
        if require_daemon:
            self.ctx.require_daemon("execute the backfill")
        record, _ = self.store.create_backfill(
            migration_id,
            start=plan.start,
            end=plan.end,
            reprocess=reprocess,
            parallel=parallel,
            runs=plan.runs,
            actor=actor,
            now=self.ctx.clock.now(),
        )
        return views.Backfill.model_validate(record)

    @staticmethod
    def _zone(name: str) -> ZoneInfo:
        try:
            return get_zone(name)
        except UnknownZoneError as exc:
            raise InvalidInput("timezone", str(exc)) from None

    def progress(self, backfill_id: int) -> views.BackfillProgress:
        return views.BackfillProgress(counts=self.store.backfill_counts(backfill_id))

    def wait(
        self,
        backfill_id: int,
        *,
        on_progress: Callable[[views.BackfillProgress], None] | None = None,
        poll: float = 0.5,
        require_daemon: bool = False,
    ) -> views.BackfillResult:
        """Follow a backfill until none of its runs is active. With ``require_daemon``,
        Unavailable as soon as no daemon runs to execute them (it would wait forever)."""
        while True:
            progress = self.progress(backfill_id)
            if on_progress:
                on_progress(progress)
            if not progress.active:
                break
            if require_daemon:
                self.ctx.require_daemon(f"execute the runs of backfill {backfill_id}")
            self.ctx.clock.sleep(poll)
        counts = {lifecycle.State(s): n for s, n in progress.counts.items()}
        return views.BackfillResult(
            backfill=backfill_id,
            succeeded=sum(n for s, n in counts.items() if s in lifecycle.SUCCEEDED),
            failed=sum(n for s, n in counts.items() if s in lifecycle.ENDED_BADLY),
        )


def _instant(value: date | datetime, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date means its midnight in the zone (the end date: the next midnight, so that the
    range holds the whole end day); a midnight without a zone is that date."""
    if isinstance(value, datetime) and value.tzinfo is None and value.time() == time():
        value = value.date()
    if isinstance(value, datetime):
        return value if value.tzinfo else resolve(value, zone)[0]
    day = value + timedelta(days=1) if end_of_day else value
    return resolve(datetime.combine(day, time()), zone)[0]
