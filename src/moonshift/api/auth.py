"""Who calls: a bearer key checked by ``app.keys`` (the one place keys are checked, which the
dashboard uses too), as a FastAPI dependency per scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from moonshift.app import Moonshift, views

bearer = HTTPBearer(auto_error=False, description="An API key: `moonshift keys create`")
feed_token = APIKeyQuery(
    name="token", auto_error=False, description="A feed or read key, for calendar apps"
)


def moonshift(request: Request) -> Moonshift:
    app: Moonshift = request.app.state.moonshift
    return app


App = Annotated[Moonshift, Depends(moonshift)]


def require(scope: str) -> Callable[..., views.Principal]:
    def check(
        app: App,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> views.Principal:
        return app.keys.authenticate(credentials.credentials if credentials else None, needs=scope)

    return check


def require_feed(
    app: App,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    token: Annotated[str | None, Security(feed_token)],
) -> views.Principal:
    """A calendar feed: the key in the Authorization header, or in ``?token=``."""
    if credentials is not None:
        return app.keys.authenticate(credentials.credentials, needs="feed")
    return app.keys.authenticate(token, needs="feed", in_url=True)


Feed = Annotated[views.Principal, Depends(require_feed)]
Reader = Annotated[views.Principal, Depends(require("read"))]
Operator = Annotated[views.Principal, Depends(require("operate"))]
Admin = Annotated[views.Principal, Depends(require("admin"))]
