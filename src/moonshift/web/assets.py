"""Static files: our stylesheet and script, and the JavaScript libraries that the Makefile
installs from the npm registry at pinned versions (package.json) into ``node_modules``, which
git ignores. Without them every page still renders; only the live refinements are missing."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC = Path(__file__).parent / "static"
# What a page may load, by its name under /static/vendor/, and where npm put it.
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "axe.min.js": "axe-core/axe.min.js",
}
router = APIRouter(include_in_schema=False)


def node_modules() -> Path:
    """``MOONSHIFT_WEB_ASSETS``, or the checkout's node_modules (``make`` fills it)."""
    found = os.environ.get("MOONSHIFT_WEB_ASSETS")
    return Path(found) if found else Path(__file__).resolve().parents[3] / "node_modules"


def available(name: str) -> bool:
    return (node_modules() / VENDOR[name]).is_file()


@router.get("/static/vendor/{name}")
def vendor(name: str) -> Response:
    path = node_modules() / VENDOR[name] if name in VENDOR else None
    if path is None or not path.is_file():
        return Response("not installed: run make", status_code=404, media_type="text/plain")
    cache = {"Cache-Control": "max-age=3600"}
    return FileResponse(path, media_type="text/javascript", headers=cache)
