"""No secret in any answer: every GET endpoint, walked after migrations and connections whose
URLs and environments hold secrets were created and used, and a one-off connection test
with a literal password; nor in the server's log or the state store."""

from __future__ import annotations

import re
from pathlib import Path

from moonshift.api.openapi import document
from tests.api.server import running, wait_for

SECRETS = {
    "PGPW": "pg-secret-7f3a9",
    "TRIGGER_SECRET": "hook-secret-51c2",
    "API_TOKEN": "token-secret-c0ffee",
}
LITERAL = "literal-pass-9e8d"
DOCUMENT = {
    "connections": [
        {"id": "prod-db", "type": "postgresql", "url": "postgresql://app:${PGPW}@127.0.0.1:1/shop"}
    ],
    "migrations": [
        {
            "id": "shop-copy",
            "kind": "copy",
            "source": {"connection": "prod-db"},
            "target": {"url": "postgresql://loader:${PGPW}@127.0.0.1:1/warehouse"},
            "trigger": {"type": "webhook", "secret": "${TRIGGER_SECRET}"},
        },
        {
            "id": "export",
            "kind": "command",
            "command": {"run": "echo exported", "env": {"API_TOKEN": "${API_TOKEN}"}},
            "schedule": {"cron": "0 2 * * *", "timezone": "America/New_York"},
        },
    ],
}


def test_no_get_endpoint_shows_a_secret(tmp_path: Path) -> None:
    with running(tmp_path, with_daemon=True, env=SECRETS) as server, server.client() as admin:
        assert admin.post("/v1/migrations", json=DOCUMENT).status_code == 201
        tried = admin.post(
            "/v1/connections/test",
            json={
                "type": "postgresql",
                "connection_string": f"postgresql://app:{LITERAL}@127.0.0.1:1/x",
            },
        ).json()
        assert tried["ok"] is False and LITERAL not in str(tried)
        assert admin.post("/v1/connections/prod-db/test").json()["ok"] is False
        assert admin.get("/v1/migrations/shop-copy/plan").status_code >= 400
        wait_for(lambda: admin.get("/v1/daemons").json()["items"], "the daemon")
        run = admin.post("/v1/migrations/export/start").json()["id"]
        wait_for(lambda: admin.get(f"/v1/runs/{run}").json()["state"] == "completed", "the run")
        values = {
            "migration_id": ["shop-copy", "export"],
            "connection_id": ["prod-db"],
            "run_id": [str(run)],
            "error_id": ["1"],
        }
        bodies = {}
        for path, operations in document()["paths"].items():
            if "get" not in operations or path.endswith("/stream"):
                continue
            for url in _filled(path, values):
                response = admin.get(url, params={"days": 366} if url.endswith(".ics") else None)
                assert response.status_code != 500, (url, response.text)
                bodies[url] = response.text
        assert len(bodies) > 30
        for url, body in bodies.items():
            for secret in [*SECRETS.values(), LITERAL, *server.keys.values()]:
                assert secret not in body, f"{secret} in {url}"
    assert "${PGPW}" in bodies["/v1/connections/prod-db"]
    for secret in [*SECRETS.values(), LITERAL]:
        assert secret not in server.log.read_text()
        assert secret.encode() not in (tmp_path / "state.db").read_bytes()


def _filled(path: str, values: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    urls = [path]
    for name in names:
        urls = [u.replace("{" + name + "}", v) for u in urls for v in values.get(name, ["x"])]
    return urls
