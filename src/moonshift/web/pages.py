"""The dashboard's pages: login and logout, the overview, a migration. Each calls
``moonshift.app`` and renders the views it returns."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from moonshift.app import STATUSES
from moonshift.errors import Forbidden, NotFound, Unauthenticated
from moonshift.web.rendering import PageRoute, act, page
from moonshift.web.session import (
    COOKIE,
    FIELD,
    LOGIN_COOKIE,
    App,
    Operating,
    Reading,
    new_login_token,
    same,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE_SIZE = 50


def _local(path: str | None) -> str:
    """Where to go after logging in: a path of this site only."""
    return path if path and path.startswith("/") and not path.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    token = new_login_token()
    response = page(request, "login.html", None, csrf=token, next=_local(next))
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    app: App,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Open a session with an API key: the cookie holds a session token, never the key."""
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not same(csrf_token, expected):
        return _login_again(request, "The form had expired; try again.", 403, next)
    try:
        session = app.keys.login(api_key.strip())
    except (Unauthenticated, Forbidden) as exc:
        return _login_again(request, f"Not logged in: {exc}.", 401, next)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session.token,
        max_age=int((session.expires_at - app.clock.now()).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _login_again(request: Request, message: str, code: int, next: str) -> Response:
    token = new_login_token()
    response = page(
        request, "login.html", None, code, csrf=token, next=_local(next), problem=message
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, app: App, who: Reading) -> Response:
    form = await request.form()
    if not same(form.get(FIELD), who.csrf):
        raise Forbidden("the form is stale or came from another site: reload the page")
    await run_in_threadpool(app.keys.logout, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def overview(
    request: Request,
    app: App,
    who: Reading,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    after: Annotated[str | None, Query(max_length=63)] = None,
) -> Response:
    """Every migration: state, progress, next fire, window, open errors; search and filter."""
    found = app.migrations.overview(search=q, status=status or None, limit=PAGE_SIZE, after=after)
    return page(
        request,
        "overview.html",
        who,
        rows=found.items,
        next=found.next,
        q=q or "",
        status=status or "",
        statuses=STATUSES,
    )


@router.get("/migrations/{migration_id}")
def migration(request: Request, migration_id: str, app: App, who: Reading) -> Response:
    """A migration: its spec (redacted), schedule in its zone, next fires, windows, runs,
    history."""
    detail = app.migrations.show(migration_id, runs=20)
    spec = detail.migration.spec
    return page(
        request,
        "migration.html",
        who,
        m=detail.migration,
        runs=detail.runs,
        spec_text=yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
        schedule=_optional(lambda: app.schedules.detail(migration_id)),
        upcoming=app.schedules.upcoming(migration_id, count=5),
        history=app.runs.history(migration_id, limit=50),
    )


def _optional(read: Any) -> Any:
    try:
        return read()
    except NotFound:
        return None


@router.post("/migrations/{migration_id}/start")
def start(migration_id: str, app: App, who: Operating) -> Response:
    """Queue a run for the daemon."""
    return act(
        f"/migrations/{migration_id}",
        lambda: f"run {app.runs.start(migration_id, actor=who.actor).id} queued",
    )
