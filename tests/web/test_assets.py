"""The pages need none of npm's libraries to work: without node_modules they render, and
only the script tags of what is missing are left out."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from moonshift.api.factory import create_app
from moonshift.app import Moonshift
from moonshift.web import install


async def _get(app: Moonshift, *paths: str) -> list[httpx.Response]:
    api = create_app(app.settings, app=app)
    install(api)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://moonshift") as client:
        return [await client.get(path) for path in paths]


def _responses(app: Moonshift) -> list[httpx.Response]:
    paths = (
        "/login",
        "/static/vendor/htmx.min.js",
        "/static/vendor/../../pyproject.toml",
        "/static/dashboard.css",
    )
    return anyio.run(_get, app, *paths)


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_pages_render_without_the_javascript_libraries(
    app: Moonshift, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login, htmx, outside, css = _responses(app)
    assert login.status_code == 200 and '<script src="/static/vendor/htmx.min.js"' in login.text
    assert htmx.status_code == 200 and outside.status_code == 404 and css.status_code == 200
    monkeypatch.setenv("MOONSHIFT_WEB_ASSETS", str(tmp_path / "nothing"))
    login, htmx, _, css = _responses(app)
    assert login.status_code == 200 and 'name="api_key"' in login.text
    assert "htmx" not in login.text and htmx.status_code == 404 and css.status_code == 200
