"""A real copy watched and steered from the dashboard, against ``moonshift serve
--with-daemon``: its progress moves on the open page (server-sent events, no reload), it
pauses and resumes from the page, stops immediately after a confirmation; a refused row is
skipped with a reason from the error queue page, another written again after its fix."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from scripts.make_shop import build

from moonshift.app import Moonshift, Settings
from tests.api.server import Server, running, wait_for
from tests.web.browser import chromium, csrf, logged_in, screenshots

SHOP_ROWS = 200_000
LIVE_MS = 60_000  # generous: a loaded 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("live")
    build(folder / "shop.db", SHOP_ROWS)
    _items(folder)
    document = {
        "migrations": [
            {
                "id": "shop",
                "kind": "copy",
                "source": {"url": f"sqlite:///{folder / 'shop.db'}"},
                "target": {"url": f"sqlite:///{folder / 'copy.db'}"},
                "copy": {"batch_size": 1, "parallel": 1},
            },
            {
                "id": "small",
                "kind": "copy",
                "source": {"url": f"sqlite:///{folder / 'small.db'}"},
                "target": {"url": f"sqlite:///{folder / 'small-copy.db'}"},
            },
            {
                "id": "guarded",
                "kind": "copy",
                "source": {"url": f"sqlite:///{folder / 'small.db'}"},
                "target": {"url": f"sqlite:///{folder / 'guarded-copy.db'}"},
                "approval": {"required": True},
            },
            {"id": "broken", "kind": "command", "command": "exit 3"},
            {
                "id": "items",
                "kind": "copy",
                "source": {"url": f"sqlite:///{folder / 'items.db'}"},
                "target": {"url": f"sqlite:///{folder / 'items-copy.db'}"},
                "copy": {"batch_size": 64, "redact": ["note"]},
            },
        ]
    }
    with running(folder, with_daemon=True) as found:
        app = Moonshift(Settings(state_url=found.state_url, home=found.home), environ={})
        app.certificates.init_signing()
        app.close()
        with found.client() as admin:
            created = admin.post("/v1/migrations", json=document)
            assert created.status_code == 201, created.text
            wait_for(lambda: admin.get("/v1/daemons").json()["items"], "the daemon")
        yield found


def _items(folder: Path) -> None:
    """Items whose quantities 7, 300 and 999 are negative: the target's CHECK refuses them."""
    with sqlite3.connect(folder / "items.db") as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, note TEXT)")
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(i, -i if i in (7, 300, 999) else i, f"private {i}") for i in range(1, 1001)],
        )
    with sqlite3.connect(folder / "small.db") as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, note TEXT)")
        db.executemany("INSERT INTO items VALUES (?, ?, ?)", [(i, i, "n") for i in range(10)])
    with sqlite3.connect(folder / "items-copy.db") as db:
        db.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER CHECK (qty >= 0), note TEXT)"
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def items_copied(server: Server) -> None:
    """The items copy ran to its end, its three refused rows in the error queue."""
    with server.client("operate") as api:
        run = api.post("/v1/migrations/items/start").json()["id"]
        wait_for(lambda: api.get(f"/v1/runs/{run}").json()["state"] == "completed", "the copy")


def _rows_done(page: Page) -> int:
    text = page.locator("#rows-done").inner_text(timeout=LIVE_MS)
    return int(text.split(" of ")[0].replace(",", ""))


def _state(page: Page, state: str) -> None:
    expect(page.locator("#run-state")).to_have_text(state, timeout=LIVE_MS)


def test_watch_a_copy_move_then_pause_resume_and_stop_it(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/shop")
        page.get_by_role("button", name="Start a run").click()
        expect(page.get_by_role("status")).to_contain_text("queued")
        page.get_by_role("link", name="Live run").click()
        _state(page, "running")
        # a page opened before the run ran reloads once it does (its buttons change): open it
        # again running, so that what moves it from here is events
        page.reload()
        _state(page, "running")
        page.evaluate("window.notReloaded = true")
        first = _rows_done(page)
        wait_for(lambda: _rows_done(page) > first, "the rows to move on the open page")
        assert page.evaluate("window.notReloaded") is True  # moved by events, not reloads
        expect(page.get_by_role("region", name="Tables")).to_contain_text("order_items")
        expect(page.locator("#rate-chart polyline")).to_have_attribute("points", re.compile(","))
        screenshots(page, "live")

        page.get_by_role("button", name="Pause").click()
        _state(page, "paused")
        expect(page.get_by_role("button", name="Resume")).to_be_visible(timeout=LIVE_MS)
        paused_at = _rows_done(page)
        page.wait_for_timeout(1500)
        page.reload()
        assert _rows_done(page) == paused_at  # paused at a checkpoint: nothing moves

        page.get_by_role("button", name="Resume").click()
        _state(page, "running")
        wait_for(lambda: _rows_done(page) > paused_at, "the rows to move again")

        page.get_by_role("link", name="Stop immediately…").click()
        expect(page.get_by_role("heading", name="Stop shop immediately?")).to_be_visible()
        screenshots(page, "stop")
        page.get_by_role("button", name="Stop now").click()
        _state(page, "paused")
        expect(page.locator("main")).to_contain_text("stopped by web:operate (immediate)")


@pytest.mark.usefixtures("items_copied")
def test_skip_a_refused_row_with_a_reason_and_retry_another(
    server: Server, browser: Browser
) -> None:
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/items/errors")
        rows = page.get_by_role("table").locator("tbody tr")
        expect(rows).to_have_count(3)
        expect(page.locator("main")).not_to_contain_text("private")  # redacted
        screenshots(page, "errors")
        rows.nth(0).get_by_role("link").click()
        expect(page.get_by_role("heading", name=re.compile(r"^Row \d+"))).to_be_visible()
        screenshots(page, "error-row")
        page.get_by_label("Why skip it").fill("a test row, never real stock")
        page.get_by_role("button", name="Skip the row").click()
        expect(page.get_by_role("status")).to_contain_text("skipped")
        expect(page.locator("main")).to_contain_text("skipped: a test row, never real stock")
        expect(page.get_by_role("button", name="Skip the row")).to_have_count(0)

        page.goto(f"{server.url}/migrations/items/errors")
        page.get_by_role("table").locator("tbody tr").nth(0).get_by_role("link").click()
        page.get_by_role("button", name="Retry the row").click()
        # its cause is not fixed: still refused, and says so
        expect(page.get_by_role("status")).to_contain_text("refused again")

        page.goto(f"{server.url}/migrations/items/errors?status=skipped")
        expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
    with server.client("read") as api:
        history = api.get("/v1/migrations/items/history").json()["items"]
        assert any("a test row, never real stock" in (h["reason"] or "") for h in history)


@pytest.mark.usefixtures("items_copied")
def test_a_read_key_watches_but_cannot_steer(server: Server, browser: Browser) -> None:
    with logged_in(browser, server, "read") as page:
        page.goto(f"{server.url}/migrations/items/live")
        expect(page.locator("#run-state")).to_have_text("completed")
        expect(page.get_by_role("heading", name="Control")).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)
        token = csrf(page)
        actions = ("start", "pause", "resume", "stop", "validate", "plan/refresh", "notes")
        actions += ("approve", "reject", "errors/1/skip", "errors/1/retry")
        for action in actions:
            refused = page.request.post(
                f"{server.url}/migrations/items/{action}",
                form={"csrf_token": token, "run": "1", "reason": "r", "text": "t"},
                max_redirects=0,
            )
            assert refused.status == 403 and "scope read" in refused.text(), action
        page.goto(f"{server.url}/migrations/items/errors?status=all")
        page.get_by_role("table").locator("tbody tr").nth(0).get_by_role("link").click()
        expect(page.get_by_role("button")).to_have_count(1)  # only "Log out"


@pytest.mark.usefixtures("items_copied")
def test_validate_and_download_a_certificate_that_verifies(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/items/validation")
        expect(page.locator("main")).to_contain_text("not been validated yet")
        page.get_by_role("button", name="Validate now").click()
        expect(page.locator("#validation-state")).to_have_text("failed", timeout=LIVE_MS)
        divergences = page.get_by_role("region", name="Divergences found")
        # the three refused rows are missing from the target, their notes masked
        for key in ("id=7", "id=300", "id=999"):
            expect(divergences).to_contain_text(key)
        expect(page.locator("main")).not_to_contain_text("private 7")
        screenshots(page, "validation")
    with server.client("operate") as api:
        run = api.post("/v1/migrations/small/start").json()["id"]
        wait_for(lambda: api.get(f"/v1/runs/{run}").json()["state"] == "completed", "the copy")
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/small/validation")
        page.get_by_role("button", name="Validate now").click()
        expect(page.locator("#validation-state")).to_have_text("passed", timeout=LIVE_MS)
        expect(page.locator("main")).to_contain_text(f"{run} (certified)")
        expect(page.locator("main")).to_contain_text("None: source and target agree.")
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download the certificate").click()
        certificate = tmp_path / "small.certificate.json"
        downloading.value.save_as(certificate)
        public = next((server.home / "keys").glob("*.pub"))
        page.get_by_role("link", name="Verify a certificate").click()
        page.get_by_label("Certificate (JSON)").set_input_files(certificate)
        page.get_by_label("Public key (PEM)").set_input_files(public)
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name="Valid", exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text(f"Run{run}")
        screenshots(page, "verify")
        forged = json.loads(certificate.read_text())
        forged["payload"] = forged["payload"][:-8] + "AAAAAAA="
        certificate.write_text(json.dumps(forged))
        page.get_by_label("Certificate (JSON)").set_input_files(certificate)
        page.get_by_label("Public key (PEM)").set_input_files(public)
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name="Not valid")).to_be_visible()


def _awaiting(api: httpx.Client) -> int:
    run = int(api.post("/v1/migrations/guarded/start").json()["id"])
    wait_for(
        lambda: api.get(f"/v1/runs/{run}").json()["state"] == "awaiting_approval",
        "the run to wait for approval",
    )
    return run


def test_review_a_plan_then_approve_one_run_and_reject_another(
    server: Server, browser: Browser
) -> None:
    with server.client("operate") as api:
        first = _awaiting(api)
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/guarded")
        page.get_by_role("link", name="Plan").click()
        expect(page.get_by_role("heading", name=f"Run {first} awaits approval")).to_be_visible()
        columns = page.get_by_role("region", name="Columns of items")
        for column in ("id", "qty", "note"):
            expect(columns).to_contain_text(column)
        expect(page.locator("main")).to_contain_text("10 rows in 1 table")
        expect(page.locator("#estimate")).to_contain_text("measured on a sample")
        expect(page.locator("#forecast")).to_contain_text("finishes")  # no windows: at once
        page.get_by_text("Profile of items").click()
        profile = page.get_by_role("region", name="Profile of items")
        expect(profile.locator("tr", has_text="note")).to_contain_text("0%")  # no nulls
        screenshots(page, "plan")
        page.get_by_label("Note (optional)").fill("checked the mapping with the team")
        page.get_by_role("button", name=f"Approve run {first}").click()
        expect(page.get_by_role("status")).to_contain_text(f"run {first}: approved")
    with server.client("operate") as api:
        wait_for(lambda: api.get(f"/v1/runs/{first}").json()["state"] == "completed", "the copy")
        second = _awaiting(api)
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/migrations/guarded/plan")
        page.get_by_label("Why reject it").fill("not during the sale")
        page.get_by_role("button", name=f"Reject run {second}").click()
        expect(page.get_by_role("status")).to_contain_text(f"run {second}: rejected")
    with server.client("read") as api:
        assert api.get(f"/v1/runs/{second}").json()["state"] == "cancelled"
        history = api.get("/v1/migrations/guarded/history").json()["items"]
        said = " ".join(str(h) for h in history)
        assert "checked the mapping with the team" in said and "not during the sale" in said


def test_acknowledge_an_alert_with_a_note(server: Server, browser: Browser) -> None:
    with server.client("operate") as api:
        run = api.post("/v1/migrations/broken/start").json()["id"]
        wait_for(lambda: api.get(f"/v1/runs/{run}").json()["state"] == "failed", "the failure")
        wait_for(lambda: api.get("/v1/alerts").json()["items"], "its alert")
    with logged_in(browser, server, "read") as page:
        page.get_by_role("link", name="Alerts").click()
        card = page.locator(".alert-card", has_text=f"run {run} failed")
        expect(card).to_contain_text("critical")
        expect(card.get_by_role("button")).to_have_count(0)  # a read key cannot acknowledge
    with logged_in(browser, server, "operate") as page:
        page.goto(f"{server.url}/")
        row = page.locator("tr", has=page.get_by_role("link", name="broken", exact=True))
        expect(row).to_contain_text("1 alert")
        page.goto(f"{server.url}/alerts")
        card = page.locator(".alert-card", has_text=f"run {run} failed")
        screenshots(page, "alerts")
        card.get_by_label("Note (optional)").fill("on it: the script lost its token")
        card.get_by_role("button", name=re.compile(r"^Acknowledge alert")).click()
        expect(page.get_by_role("status")).to_contain_text("acknowledged")
        card = page.locator(".alert-card", has_text=f"run {run} failed")
        expect(card.locator(".alert-status")).to_contain_text("acknowledged by web:operate")
        expect(card).to_contain_text("on it: the script lost its token")
    with server.client("read") as api:
        history = api.get("/v1/migrations/broken/history").json()["items"]
        assert any("on it: the script lost its token" in str(h) for h in history)
