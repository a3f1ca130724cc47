"""Validation over HTTP, against a real ``moonshift serve``: POST .../validate moves the
completed run and answers with the report; the newest one and its divergences, paged."""

from __future__ import annotations

from pathlib import Path

from moonshift.app import Moonshift, Settings
from tests.api.server import running
from tests.copy.helpers import copy_spec, create, run_copy
from tests.validation.test_lifecycle import urls


def test_validate_over_http(tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    with running(tmp_path) as server:
        with server.client("admin") as admin:
            spec = copy_spec(source, target, tables="*")
            assert admin.post("/v1/migrations", json={"migrations": [spec]}).status_code == 201
        with server.client("operate") as client:
            app = Moonshift(Settings(state_url=server.state_url, home=server.home), environ={})
            try:
                run_copy(app)
            finally:
                app.close()
            create(target, "DELETE FROM orders WHERE id IN (3, 40)")
            create(target, "UPDATE customers SET name = 'x' WHERE id = 7")
            answer = client.post("/v1/migrations/c/validate")
            assert answer.status_code == 200, answer.text
            report = answer.json()
            assert not report["passed"] and report["run_state"] == "failed"
        with server.client("read") as reader:
            assert reader.post("/v1/migrations/c/validate").status_code == 403
            latest = reader.get("/v1/migrations/c/validation").json()
            assert latest["id"] == report["id"]
            first = reader.get("/v1/migrations/c/validation/divergences", params={"limit": 2})
            page = first.json()
            assert len(page["items"]) == 2 and page["next"]
            rest = reader.get(
                "/v1/migrations/c/validation/divergences",
                params={"limit": 2, "after": page["next"]},
            ).json()
            got = {(d["table"], d["kind"], d["what"]) for d in page["items"] + rest["items"]}
            assert got == {
                ("customers", "changed", "row id=7 differs in name"),
                ("orders", "missing", "row id=3 is in the source only"),
                ("orders", "missing", "row id=40 is in the source only"),
            }
            assert rest["next"] is None
            missing = reader.get("/v1/migrations/nope/validation")
            assert missing.status_code == 404
