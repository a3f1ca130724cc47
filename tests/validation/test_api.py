"""Validation over HTTP, against a real ``moonshift serve``: POST .../validate certifies a
completed run; its certificate (signed with the server's key) and summary report; a later
validation that fails, its divergences paged, redacted columns masked."""

from __future__ import annotations

import json
from pathlib import Path

from moonshift.app import Moonshift, Settings
from tests.api.server import running
from tests.copy.helpers import copy_spec, create, run_copy
from tests.validation.test_lifecycle import urls


def test_validate_certificate_report_and_divergences_over_http(tmp_path: Path) -> None:
    source, target = urls(tmp_path)
    with running(tmp_path) as server:
        app = Moonshift(Settings(state_url=server.state_url, home=server.home), environ={})
        try:
            signer = app.certificates.init_signing()
            with server.client("admin") as admin:
                spec = copy_spec(source, target, tables="*", redact=["name"])
                answer = admin.post("/v1/migrations", json={"migrations": [spec]})
                assert answer.status_code == 201, answer.text
            run_copy(app)
            with server.client("operate") as client:
                answer = client.post("/v1/migrations/c/validate")
                assert answer.status_code == 200, answer.text
                assert answer.json()["passed"] and answer.json()["run_state"] == "certified"
            with server.client("read") as reader:
                assert reader.post("/v1/migrations/c/validate").status_code == 403
                made = reader.get("/v1/migrations/c/certificate")
                assert made.status_code == 200, made.text
                envelope = json.dumps(made.json()["envelope"]).encode()
                pub = Path(signer.public_key).read_bytes()
                assert app.certificates.verify(envelope, [pub]).valid
                html = reader.get("/v1/migrations/c/report", params={"format": "html"})
                assert html.headers["content-type"].startswith("text/html")
                assert "<h1>Validation certificate: c</h1>" in html.text
                markdown = reader.get("/v1/migrations/c/report")
                assert markdown.headers["content-type"].startswith("text/markdown")
                assert "| row_level | passed |" in markdown.text

            create(target, "DELETE FROM orders WHERE id IN (3, 40)")
            create(target, "UPDATE customers SET name = 'x' WHERE id = 7")
            with server.client("operate") as client:
                report = client.post("/v1/migrations/c/validate").json()
                assert not report["passed"] and report["run_state"] == "certified"  # it stays
            with server.client("read") as reader:
                latest = reader.get("/v1/migrations/c/validation").json()
                assert latest["id"] == report["id"]
                path = "/v1/migrations/c/validation/divergences"
                page = reader.get(path, params={"limit": 2}).json()
                found = list(page["items"])
                assert len(found) == 2 and page["next"]
                while page["next"]:
                    page = reader.get(path, params={"limit": 2, "after": page["next"]}).json()
                    found += page["items"]
                assert len(found) == sum(r["found"] for r in report["results"])
                assert len({d["id"] for d in found}) == len(found)
                rows = [d for d in found if d["perspective"] == "row_level"]
                assert {(d["table"], d["kind"], d["what"]) for d in rows} == {
                    ("customers", "changed", "row id=7 differs in name"),
                    ("orders", "missing", "row id=3 is in the source only"),
                    ("orders", "missing", "row id=40 is in the source only"),
                }
                changed = next(d for d in rows if d["table"] == "customers")
                assert changed["source"]["name"] == changed["target"]["name"] == "***"
                assert reader.get("/v1/migrations/c/certificate").status_code == 409
                assert reader.get("/v1/migrations/nope/validation").status_code == 404
        finally:
            app.close()
