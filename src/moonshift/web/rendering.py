"""Pages from templates, and error kinds as pages: a missing or ended session goes to the
login form, the rest to a page that says what happened (no traceback, no secret)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from moonshift.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MoonshiftError,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from moonshift.web import assets
from moonshift.web.session import Viewer

FLASH = "moonshift_flash"
log = logging.getLogger("moonshift.web")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATUS = {NotFound: 404, InvalidInput: 422, Conflict: 409, Unavailable: 503, Forbidden: 403}
TITLES = {
    403: "Not allowed",
    404: "Not found",
    409: "Not now",
    422: "Not valid",
    503: "Unavailable",
    500: "Something went wrong",
}


def in_zone(value: datetime | None, zone: str = "UTC") -> str:
    """An instant as the wall clock of ``zone`` shows it, with the zone's abbreviation."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def clock(value: datetime, zone: str) -> str:
    """The wall-clock time of an instant in ``zone``."""
    return value.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    whole = int(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


templates.env.filters["in_zone"] = in_zone
templates.env.filters["seconds"] = seconds
templates.env.filters["clock"] = clock
templates.env.globals["vendor"] = assets.available


def page(
    request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any
) -> Response:
    """Render ``name``, with the pending flash message (then forgotten)."""
    flash = request.cookies.get(FLASH)
    response = templates.TemplateResponse(
        request,
        name,
        {"viewer": viewer, "flash": _read_flash(flash), **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )
    if flash:
        response.delete_cookie(FLASH, path="/")
    return response


def _read_flash(raw: str | None) -> tuple[str, str] | None:
    kind, _, text = unquote(raw or "").partition(":")
    return (kind, text) if kind in ("ok", "error") else None


def back(url: str, message: str, *, ok: bool = True) -> Response:
    """After a form: see ``url`` (303), saying ``message`` once."""
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLASH,
        quote(f"{'ok' if ok else 'error'}:{message}"),
        max_age=60,
        httponly=True,
        samesite="lax",
    )
    return response


def act(url: str, do: Callable[[], str]) -> Response:
    """Do what a form asks, then show ``url`` saying what happened, or why not."""
    try:
        return back(url, do())
    except (Forbidden, Unauthenticated):
        raise
    except MoonshiftError as exc:
        return back(url, str(exc), ok=False)


def error_page(request: Request, exc: MoonshiftError) -> Response:
    if isinstance(exc, Unauthenticated):
        wanted = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(wanted)}", status_code=303)
    code = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), 500)
    return page(request, "error.html", None, status_code=code, title=TITLES[code], message=str(exc))


class PageRoute(APIRoute):
    """A dashboard route: error kinds raised by it or its dependencies become pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except MoonshiftError as exc:
                return error_page(request, exc)
            except Exception:
                # a bug: the log has it, the page says only that something went wrong
                log.exception("%s %s failed", request.method, request.url.path)
                return page(
                    request,
                    "error.html",
                    None,
                    status_code=500,
                    title=TITLES[500],
                    message="The dashboard failed to show this; the server's log says why.",
                )

        return route
