"""The coming week: every migration's fires and window openings, a column of days per time
zone (each in that zone's own dates and wall clock)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from moonshift.app import views
from moonshift.web.rendering import PageRoute, page
from moonshift.web.session import App, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
DAYS = 7


def week(
    entries: list[views.AgendaEntry], today: dict[str, date]
) -> dict[str, dict[date, list[views.AgendaEntry]]]:
    """zone -> day -> what starts that day, for the ``DAYS`` days from the zone's today."""
    found: dict[str, dict[date, list[views.AgendaEntry]]] = {}
    for zone, first in sorted(today.items()):
        found[zone] = {first + timedelta(days=i): [] for i in range(DAYS)}
    for entry in entries:
        day = entry.starts_at.astimezone(ZoneInfo(entry.timezone)).date()
        if day in found[entry.timezone]:
            found[entry.timezone][day].append(entry)
    return found


@router.get("/calendar")
def calendar(request: Request, app: App, who: Reading) -> Response:
    entries = app.agenda.upcoming(days=DAYS).items
    now = app.clock.now()
    today = {e.timezone: now.astimezone(ZoneInfo(e.timezone)).date() for e in entries}
    return page(request, "calendar.html", who, zones=week(entries, today))
