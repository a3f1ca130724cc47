"""A headless Debian Chromium driven by Playwright, logged in to a real ``moonshift serve``
with a key of a given scope; screenshots for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.api.server import Server

CHROMIUM = "/usr/bin/chromium"
# axe-core, installed by make from the npm registry at the version package.json pins
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
# Git ignores it; `make test` leaves the pictures there.
SHOTS = Path(os.environ.get("MOONSHIFT_SCREENSHOTS", Path(__file__).parents[2] / "screenshots"))
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
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
    """The page at desktop and at phone width, full length; at each, axe-core finds no
    serious or critical accessibility violation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0, f"{path}: an empty screenshot"
        taken.append(path)
        found = violations(page)
        assert not found, f"{name} at {label} width: {found}"
    page.set_viewport_size(DESKTOP)
    return taken


def violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def csrf(page: Page) -> str:
    """The page's CSRF token, as every form carries it."""
    value = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert value
    return value
