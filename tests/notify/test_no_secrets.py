"""A failed run sends one email, one Slack message and one signed webhook from a daemon;
no notification secret (an SMTP password, a Slack URL's token, a webhook's signing
secret) appears in the server's log, the history, any API answer or the state store, after
every channel delivered a failed run's event."""

from __future__ import annotations

import json
import time
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from tests.api.server import running, wait_for
from tests.notify.receiver import receiver
from tests.notify.smtp import PASSWORD, USER, smtp_server
from tests.notify.test_outbox import SECRET

TOKEN = "XoXb7d1e-slack-token-55"


def test_no_secret_in_log_history_api_or_store(tmp_path: Path) -> None:
    with receiver() as hook, smtp_server(tmp_path, "starttls") as box:
        env = {
            "HOOK_SECRET": SECRET,
            "SMTP_PASSWORD": PASSWORD,
            "SLACK_URL": f"{hook.url}/services/T0/B0/{TOKEN}",
            "SSL_CERT_FILE": str(tmp_path / "cert.pem"),
        }
        document = {
            "channels": [
                {
                    "id": "hook",
                    "type": "webhook",
                    "url": f"{hook.url}/hook",
                    "secret": "${HOOK_SECRET}",
                },
                {"id": "chat", "type": "slack", "url": "${SLACK_URL}"},
                {
                    "id": "mail",
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": box.port,
                    "username": USER,
                    "password": "${SMTP_PASSWORD}",
                    "from": "moonshift@example.com",
                    "to": ["ops@example.com"],
                },
            ],
            "notify": [{"channel": c, "on": ["failed"]} for c in ("hook", "chat", "mail")],
            "migrations": [{"id": "broken", "kind": "command", "command": "exit 4"}],
        }
        with running(tmp_path, with_daemon=True, env=env) as server, server.client() as admin:
            assert admin.post("/v1/migrations", json=document).status_code == 201
            wait_for(lambda: admin.get("/v1/daemons").json()["items"], "the daemon")
            assert admin.post("/v1/migrations/broken/start").status_code == 202
            wait_for(
                lambda: box.messages and hook.on("/hook") and hook.on(f"/services/T0/B0/{TOKEN}"),
                "3 deliveries",
                90,
            )
            answers = [
                admin.get(path).text
                for path in (
                    "/v1/channels",
                    "/v1/channels/chat",
                    "/v1/channels/mail",
                    "/v1/channels/hook",
                    "/v1/migrations/broken/notifications",
                    "/v1/migrations/broken/history",
                    "/v1/migrations/broken",
                )
            ]
            time.sleep(1.5)  # a second delivery of any would have come by now
            [signed] = hook.on("/hook")
            assert Webhook(SECRET).verify(signed.body, signed.headers)["type"] == "failed"
            assert len(hook.on(f"/services/T0/B0/{TOKEN}")) == 1
            [mail] = box.messages
            assert "broken: run 1 failed: exit status 4" in mail["Subject"]
            tested = admin.post("/v1/channels/mail/test").json()
            assert tested["ok"] is True, tested
            answers.append(json.dumps(tested))
            log = json.loads(answers[4])["items"]
            assert {d["status"] for e in log for d in e["deliveries"]} == {"delivered"}
        store = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
        seen = "\n".join([*answers, server.log.read_text()])
        for secret in (PASSWORD, TOKEN, SECRET):
            assert secret not in seen
            assert secret.encode() not in store
