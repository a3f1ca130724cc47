"""Mapping suggestions on the dashboard's plan page, in a real Chromium against a real
``moonshift serve``: shown with their confidence and reasons, accepted with a button (a
new spec version, and the waiting run's approval void), no button for a read key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import expect

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State
from tests.api.server import running
from tests.web.browser import chromium, logged_in, screenshots


def _databases(folder: Path) -> None:
    with sqlite3.connect(folder / "shop.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC, placed_at TEXT)")
        rows = [(i, i * 2.5, f"2026-01-{1 + i % 28:02}") for i in range(1, 41)]
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", rows)
    with sqlite3.connect(folder / "shop-copy.db") as db:
        db.execute("CREATE TABLE tbl_Order (id INTEGER PRIMARY KEY, total NUMERIC, placedAt TEXT)")
        db.executemany("INSERT INTO tbl_Order VALUES (?, ?, ?)", rows[:10])


def test_accept_suggested_mappings_from_the_plan_page(tmp_path: Path) -> None:
    _databases(tmp_path)
    spec = {
        "id": "orders",
        "kind": "copy",
        "source": {"url": f"sqlite:///{tmp_path / 'shop.db'}"},
        "target": {"url": f"sqlite:///{tmp_path / 'shop-copy.db'}"},
        "copy": {"tables": ["orders"], "target_prep": "truncate"},
        "approval": {"required": True},
    }
    with running(tmp_path) as server, chromium() as browser:
        with server.client() as admin:
            assert admin.post("/v1/migrations", json={"migrations": [spec]}).status_code == 201
        app = Moonshift(Settings(state_url=server.state_url, home=server.home), environ={})
        try:
            run = app.runs.execute(app.runs.run_now("orders", actor="user:test").id)
        finally:
            app.close()
        assert run.state is State.AWAITING_APPROVAL, run.reason
        with logged_in(browser, server, "operate") as page:
            page.goto(f"{server.url}/migrations/orders/plan")
            found = page.get_by_role("region", name="Suggestions by confidence")
            table_row = found.locator("tr", has_text="tbl_Order").first
            expect(table_row).to_contain_text("orders")
            expect(found).to_contain_text("orders.placed_at")
            expect(found).to_contain_text("tbl_Order.placedAt")
            expect(found).to_contain_text("of sampled values in common")
            screenshots(page, "suggestions")
            page.get_by_role("button", name="Accept orders as tbl_Order").click()
            status = page.get_by_role("status")
            expect(status).to_contain_text("accepted")
            expect(status).to_contain_text("spec version 2")
            expect(status).to_contain_text("approvals are void")
            page.get_by_role("button", name="Accept orders.placed_at as tbl_Order.placedAt").click()
            expect(page.get_by_role("status")).to_contain_text("spec version 3")
            expect(page.get_by_role("region", name="Suggestions by confidence")).to_have_count(0)
        with server.client("read") as api:
            assert api.get(f"/v1/runs/{run.id}").json()["state"] == "planning"
            [table] = api.get("/v1/migrations/orders").json()["migration"]["spec"]["copy"]["tables"]
            assert table == {
                "source": "orders",
                "target": "tbl_Order",
                "columns": {"placed_at": {"rename": "placedAt"}},
            }
        with logged_in(browser, server, "read") as page:
            page.goto(f"{server.url}/migrations/orders/plan")
            expect(page.get_by_role("button", name="Accept")).to_have_count(0)
