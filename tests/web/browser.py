"""A headless Debian Chromium driven by Playwright, logged in to a real ``moonshift serve``
with a key of a given scope; screenshots for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.server import Server

CHROMIUM = "/usr/bin/chromium"
# Git ignores it; `make test` leaves the pictures there.
SHOTS = Path(os.environ.get("MOONSHIFT_SCREENSHOTS", Path(__file__).parents[2] / "screenshots"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 60_000  # a loaded 2-core machine


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def logged_in(browser: Browser, server: Server, scope: str) -> Iterator[Page]:
    """A fresh browser context (its own cookies) that has logged in with the key of ``scope``."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/")
        page.get_by_label("API key").fill(server.keys[scope])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.url}/")
        yield page
    finally:
        context.close()


def screenshots(page: Page, name: str) -> list[Path]:
    """The page at desktop and at phone width, full length."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    page.set_viewport_size(DESKTOP)
    return taken


def csrf(page: Page) -> str:
    """The page's CSRF token, as every form carries it."""
    value = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert value
    return value
