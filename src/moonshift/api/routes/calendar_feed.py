"""The calendar feed: upcoming runs and window openings as iCalendar, for a calendar app to
subscribe to (with the key in `?token=`, since calendar apps send no headers)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from icalendar import Calendar, Event

from moonshift import __version__
from moonshift.api.auth import App, Feed
from moonshift.app import views

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])


@router.get(
    "/migrations.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "an iCalendar feed"}},
)
def migrations_ics(
    app: App,
    _: Feed,
    days: Annotated[int, Query(ge=1, le=366, description="How far ahead")] = 31,
) -> Response:
    """Every enabled migration's runs and windows of the next `days`, each in its zone."""
    feed = ics(app.agenda.upcoming(days))
    return Response(feed, media_type="text/calendar; charset=utf-8")


def ics(agenda: views.Agenda) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//moonshift//moonshift {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "moonshift migrations")
    for entry in agenda.items:
        zone = ZoneInfo(entry.timezone)
        event = Event()
        event.add("uid", entry.uid)
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        event.add("categories", [entry.kind])
        event.add("dtstart", entry.starts_at.astimezone(zone))
        event.add("dtend", entry.ends_at.astimezone(zone))
        event.add("dtstamp", entry.starts_at)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
