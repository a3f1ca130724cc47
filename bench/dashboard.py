"""The dashboard in Chromium (Debian's, driven by Playwright), with 1,000 migrations in the
state store: the overview's render time, the time until a 500-node dependency graph answers
a zoom, and the time from a progress write in the store to the open live page showing it.
Each beside a reference measured in the same run: the JSON API's list call (a page of 50)
that returns the same migrations' data without rendering. Goals: overview and graph under
1 s, a progress update on the page within 1 s.

    make bench      # or: .venv/bin/python bench/dashboard.py [--migrations 1000] [--graph 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from api import serving
from moonshift.app import Moonshift, Settings
from moonshift.domain.progress import Progress, TableProgress
from moonshift.domain.spec import MigrationSpec
from moonshift.store.records import Trigger

CHROMIUM = "/usr/bin/chromium"
WINDOWS = [{"name": "nights", "days": ["monday", "friday"], "start": "22:00", "end": "04:00"}]


def populate(app: Moonshift, count: int, graph: int) -> str:
    """``count`` copy migrations, the first ``graph`` of them one dependency tree (each
    depends on the one at half its number); every tenth has a run with progress. Returns
    the id of the last run's migration."""
    now = datetime.now(UTC)
    last = ""
    for i in range(count):
        spec = {
            "id": f"copy-{i:05d}",
            "kind": "copy",
            "source": {"url": f"sqlite:///source-{i}.db"},
            "target": {"url": f"sqlite:///target-{i}.db"},
            "schedule": {"cron": f"{i % 60} 2 * * *", "timezone": "America/New_York"},
            "windows": WINDOWS,
        }
        if 0 < i < graph:
            spec["depends_on"] = [{"migration": f"copy-{i // 2:05d}"}]
        app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="bench")
        if i % 10 == 0:
            last = spec["id"]  # type: ignore[assignment]
            run = app.store.create_run(
                last, trigger=Trigger.MANUAL, nominal_time=now, actor="bench", now=now
            )
            tables = {
                f"t{n}": TableProgress(state="copying", rows=i * n, total=10**6) for n in range(8)
            }
            app.store.update_run(run.id, now=now, progress=Progress(tables=tables))
    return last


def median_ms(measure: object, times: int) -> float:
    found = []
    for _ in range(times):
        began = time.perf_counter()
        measure()  # type: ignore[operator]
        found.append((time.perf_counter() - began) * 1000)
    return statistics.median(found)


def log_in(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def overview(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    assert page.locator("tbody tr").count() == 50


def graph(page: Page, base: str, nodes: int) -> None:
    """Loaded, drawn, and a zoom answered: interactive."""
    page.goto(f"{base}/graph?focus=copy-00000")
    page.wait_for_function("window.graphReady !== undefined")
    before = page.get_attribute("svg[data-graph]", "viewBox")
    page.click("[data-zoom=in]")
    assert page.get_attribute("svg[data-graph]", "viewBox") != before
    assert page.locator("a.node").count() == nodes


def progress_delays(page: Page, base: str, state_url: str, migration: str, n: int) -> list[float]:
    """From a progress write in the store to the open live page showing it."""
    app = Moonshift(Settings(state_url=state_url, home=Path(tempfile.gettempdir())), environ={})
    run = app.store.list_runs(migration, limit=1)[0]
    page.goto(f"{base}/migrations/{migration}/live")
    page.wait_for_selector("#rows-done")
    delays = []
    for rows in range(1, n + 1):
        tables = {"t0": TableProgress(state="copying", rows=rows * 1000, total=n * 1000)}
        began = time.perf_counter()
        app.store.update_run(run.id, now=datetime.now(UTC), progress=Progress(tables=tables))
        shown = f"{rows * 1000:,} of"
        page.wait_for_function(
            f"document.querySelector('#rows-done').textContent.startsWith('{shown}')",
            polling="raf",
        )
        delays.append((time.perf_counter() - began) * 1000)
        time.sleep(0.1)
    app.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--graph", type=int, default=500, help="nodes of the dependency tree")
    parser.add_argument("--repeat", type=int, default=10, help="page loads measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home)
        app = Moonshift(settings, environ={})
        began = time.perf_counter()
        busy = populate(app, args.migrations, args.graph)
        key = app.keys.create("bench", "read", actor="bench").key
        app.close()
        print(f"{args.migrations} migrations stored in {time.perf_counter() - began:.1f} s")
        with serving(settings.state_url, folder) as base:
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                client.get("/v1/migrations?limit=50").raise_for_status()
                reference = median_ms(
                    lambda: client.get("/v1/migrations?limit=50").raise_for_status(), args.repeat
                )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page()
                log_in(page, base, key)
                overview(page, base)  # warm
                shown = median_ms(lambda: overview(page, base), args.repeat)
                graph(page, base, args.graph)
                drawn = median_ms(lambda: graph(page, base, args.graph), args.repeat)
                delays = progress_delays(page, base, settings.state_url, busy, args.repeat)
                browser.close()
            print(f"{'measure':<44} {'median ms':>10} {'/ reference':>12}")
            rows = {
                "reference: API list, 50 migrations (JSON)": reference,
                f"overview, 50 of {args.migrations} (goal < 1000 ms)": shown,
                f"graph, {args.graph} nodes, zoomed (goal < 1000 ms)": drawn,
                "progress write -> page (goal < 1000 ms)": statistics.median(delays),
            }
            for name, ms in rows.items():
                print(f"{name:<44} {ms:>10.1f} {ms / reference:>11.1f}x")


if __name__ == "__main__":
    main()
