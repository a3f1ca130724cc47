"""Who is looking: a session cookie opened by logging in with an API key (``app.keys`` checks
both), and the CSRF token every form carries, derived from the session so that another site
cannot know it. The login form, before any session, uses a random cookie and the same value
in the form (a double submit)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from moonshift.app import SCOPES, Moonshift, views
from moonshift.errors import Forbidden

COOKIE = "moonshift_session"
LOGIN_COOKIE = "moonshift_login"
FIELD = "csrf_token"


def service(request: Request) -> Moonshift:
    app: Moonshift = request.app.state.moonshift
    return app


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"moonshift dashboard form", hashlib.sha256).hexdigest()


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Viewer:
    principal: views.Principal
    csrf: str

    def can(self, scope: str) -> bool:
        return SCOPES.index(self.principal.scope) >= SCOPES.index(scope)

    @property
    def actor(self) -> str:
        return f"web:{self.principal.name}"


async def viewer(request: Request) -> Viewer:
    """A page's reader: a session of any key that may read (else Unauthenticated)."""
    token = request.cookies.get(COOKIE)
    principal = await run_in_threadpool(service(request).keys.session, token, needs="read")
    return Viewer(principal, csrf_for(token or ""))


def acting(scope: str) -> Callable[[Request], Awaitable[Viewer]]:
    """A form's sender: a session whose key has ``scope``, and the form's CSRF token."""

    async def check(request: Request) -> Viewer:
        token = request.cookies.get(COOKIE)
        principal = await run_in_threadpool(service(request).keys.session, token, needs=scope)
        form = await request.form()
        if not same(form.get(FIELD), csrf_for(token or "")):
            raise Forbidden("the form is stale or came from another site: reload the page")
        return Viewer(principal, csrf_for(token or ""))

    return check


App = Annotated[Moonshift, Depends(service)]
Reading = Annotated[Viewer, Depends(viewer)]
Operating = Annotated[Viewer, Depends(acting("operate"))]
