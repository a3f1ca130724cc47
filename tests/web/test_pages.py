"""The dashboard in a real headless Chromium against a real ``moonshift serve``: log in, the
overview and a migration's page, scopes (a read key has no buttons and its POSTs are
refused), CSRF on every form, logout, no secret on a page; screenshots at desktop and phone
width."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.server import Server, running
from tests.web.browser import PHONE, chromium, csrf, logged_in, screenshots, violations

SECRET = "target-pass-4b1d"
DOCUMENT = {
    "migrations": [
        {
            "id": "weekly-report",
            "name": "Weekly report",
            "kind": "command",
            "command": "true",
            "schedule": {"cron": "0 9 * * 1", "timezone": "America/New_York"},
            "depends_on": [{"migration": "batch-59"}],
            "windows": [{"name": "mornings", "days": ["monday"], "start": "08:00", "end": "12:00"}],
        },
        {
            "id": "orders-copy",
            "kind": "copy",
            "source": {"url": "postgresql://app:${TARGET_PW}@127.0.0.1:1/shop"},
            "target": {"url": "postgresql://loader:${TARGET_PW}@127.0.0.1:1/warehouse"},
        },
        *(
            {
                "id": f"batch-{i:02d}",
                "kind": "command",
                "command": "true",
                "depends_on": [{"migration": f"batch-{i // 2:02d}"}] if i else [],
            }
            for i in range(60)
        ),
    ]
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("web"), env={"TARGET_PW": SECRET}) as found:
        with found.client() as admin:
            created = admin.post("/v1/migrations", json=DOCUMENT)
            assert created.status_code == 201, created.text
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def test_log_in_and_see_the_overview_and_a_migration(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "operate") as page:
        expect(page.get_by_role("heading", name="Migrations")).to_be_visible()
        table = page.get_by_role("table")
        # paged by id: 50 a page, the rest behind "Next page"
        expect(table.locator("tbody tr")).to_have_count(50)
        expect(table.get_by_role("link", name="batch-00")).to_be_visible()
        screenshots(page, "overview")
        # the check sees what it is for: a choice without its label is critical
        page.evaluate("document.querySelector('label[for=status]').remove()")
        assert any(v.startswith("select-name (critical)") for v in violations(page))
        page.get_by_role("link", name="Next page").click()
        expect(page.get_by_role("table").locator("tbody tr")).to_have_count(12)
        row = page.locator("tr", has=page.get_by_role("link", name="weekly-report"))
        expect(row).to_contain_text("idle")
        expect(row).to_contain_text(re.compile(r"E[SD]T"))  # next fire, in its own zone
        expect(row).to_contain_text(re.compile(r"open|closed"))
        page.get_by_label("Search").fill("weekly")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
        page.get_by_role("link", name="weekly-report").click()
        expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
        expect(page.locator("main")).to_contain_text("America/New_York")
        expect(page.get_by_role("region", name="Next windows")).to_contain_text("mornings")
        expect(page.get_by_role("button", name="Start a run")).to_be_visible()
        screenshots(page, "migration")
        page.goto(f"{server.url}/migrations/orders-copy")
        spec = page.get_by_label("Spec of orders-copy")
        expect(spec).to_contain_text("${TARGET_PW}")
        assert SECRET not in page.content()
        # Start needs a daemon: the page says so instead of failing
        page.goto(f"{server.url}/migrations/weekly-report")
        page.get_by_role("button", name="Start a run").click()
        expect(page.get_by_role("alert")).to_contain_text("no moonshift daemon")


def test_a_read_key_sees_no_buttons_and_its_posts_are_refused(
    server: Server, browser: Browser
) -> None:
    with logged_in(browser, server, "read") as page:
        page.goto(f"{server.url}/migrations/weekly-report")
        expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
        expect(page.get_by_role("button", name="Start a run")).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)
        token = csrf(page)  # the logout form's: a read key may log out
        refused = page.request.post(
            f"{server.url}/migrations/batch-07/start",
            form={"csrf_token": token},
            max_redirects=0,
        )
        assert refused.status == 403 and "scope read" in refused.text()
    with server.client("read") as api:
        assert api.get("/v1/migrations/batch-07/runs").json()["items"] == []


def test_every_form_needs_its_csrf_token(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "operate") as page:
        for token in ("", "0" * 64):
            refused = page.request.post(
                f"{server.url}/migrations/weekly-report/start",
                form={"csrf_token": token},
                max_redirects=0,
            )
            assert refused.status == 403 and "reload the page" in refused.text()
        refused = page.request.post(f"{server.url}/logout", form={}, max_redirects=0)
        assert refused.status == 403
    context = browser.new_context()
    try:
        # a login form posted from elsewhere has no login cookie: refused, no session
        forged = context.request.post(
            f"{server.url}/login",
            form={"api_key": server.keys["admin"], "csrf_token": "x"},
            max_redirects=0,
        )
        assert forged.status == 403 and "moonshift_session" not in str(forged.headers)
    finally:
        context.close()


def test_bad_keys_and_logout(server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/migrations/weekly-report")
        expect(page).to_have_url(re.compile(r"/login\?next=/migrations/weekly-report$"))
        screenshots(page, "login")
        for key, says in (
            ("ms_nothing", "unknown or revoked"),
            (server.keys["feed"], "scope feed"),
        ):
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("alert")).to_contain_text(says)
        page.get_by_label("API key").fill(server.keys["read"])
        page.get_by_label("API key").press("Enter")
        expect(page).to_have_url(f"{server.url}/migrations/weekly-report")
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies["moonshift_session"] and server.keys["read"] not in str(cookies)
        page.goto(f"{server.url}/migrations/no-such-migration")
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        screenshots(page, "not-found")
        page.goto(f"{server.url}/")
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login"))
        # the old cookie is dead, not only forgotten
        context.add_cookies(
            [
                {
                    "name": "moonshift_session",
                    "value": cookies["moonshift_session"],
                    "url": server.url,
                }
            ]
        )
        page.goto(f"{server.url}/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    finally:
        context.close()


def _box(page: Page, migration: str) -> tuple[float, float]:
    rect = page.locator(f'a.node[data-id="{migration}"] rect')
    return float(rect.get_attribute("x") or 0), float(rect.get_attribute("y") or 0)


def test_the_dependency_graph_zooms_and_clicks_through(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "read") as page:
        page.get_by_role("link", name="Dependencies").click()
        expect(page.locator("a.node")).to_have_count(62)
        page.wait_for_function("window.graphReady !== undefined")
        # batch-59 depends on batch-29 ... on batch-00; weekly-report on batch-59
        assert _box(page, "batch-00")[0] < _box(page, "batch-01")[0] < _box(page, "batch-03")[0]
        assert _box(page, "weekly-report")[0] > _box(page, "batch-59")[0]
        svg = page.locator("svg[data-graph]")
        before = svg.get_attribute("viewBox")
        page.get_by_role("button", name="Zoom in").click()
        zoomed = svg.get_attribute("viewBox")
        assert zoomed != before
        page.get_by_role("button", name="Fit").click()
        assert svg.get_attribute("viewBox") == svg.get_attribute("data-full")
        screenshots(page, "graph")
        page.goto(f"{server.url}/graph?focus=batch-03")
        # batch-03 needs batch-01 and batch-00; batch-06, batch-07 and theirs need it, down
        # to weekly-report (through batch-59, 29, 14 and 7); its siblings are left out
        ids = {n.get_attribute("data-id") for n in page.locator("a.node").all()}
        assert {"batch-00", "batch-01", "batch-03", "batch-06", "batch-07", "weekly-report"} <= ids
        assert not ids & {"batch-02", "batch-04", "batch-05", "orders-copy"}
        page.locator('a.node[data-id="batch-03"]').click()
        expect(page).to_have_url(f"{server.url}/migrations/batch-03")


def test_the_calendar_shows_a_week_per_time_zone(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "read") as page:
        page.get_by_role("link", name="Calendar").click()
        zone = page.get_by_role("region", name="America/New_York")
        expect(zone.locator(".day")).to_have_count(7)
        # a week always holds one Monday: the window opens at 08:00, the run fires at 09:00
        expect(zone.locator(".entry-window")).to_contain_text("08:00\u201312:00")
        expect(zone.locator(".entry-run")).to_contain_text("09:00")
        screenshots(page, "calendar")


def test_the_keyboard_reaches_everything_and_search_answers_as_you_type(
    server: Server, browser: Browser
) -> None:
    with logged_in(browser, server, "read") as page:
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#main")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Search")).to_be_focused()
        page.keyboard.type("weekly")  # htmx swaps the rows in; no button pressed
        expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
        expect(page).to_have_url(re.compile(r"q=weekly"))
        for _ in range(4):  # the state, the filter button, the scrollable table, its link
            page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="weekly-report")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{server.url}/migrations/weekly-report")
