"""Email on a real SMTP server (STARTTLS and TLS, with a login), Slack on a real HTTP
server that answers 429, ``notify test``, ``setup-slack`` and ``setup-email``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moonshift.app import Moonshift
from moonshift.domain.notices import Notice
from tests.helpers import FakeClock, moonshift
from tests.notify.receiver import Receiver
from tests.notify.smtp import PASSWORD, USER, smtp_server
from tests.notify.test_outbox import ENV, dispatcher, fail_a_run


def mail_spec(port: int, security: str) -> str:
    return f"""
channels:
  - id: mail
    type: email
    host: 127.0.0.1
    port: {port}
    security: {security}
    username: {USER}
    password: ${{SMTP_PASSWORD}}
    from: moonshift@example.com
    to: [ops@example.com, dba@example.com]
migrations:
  - id: job
    kind: steps
    steps: {{count: 1}}
    notify: [{{channel: mail, on: [failed]}}]
"""


def trusted(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Trust the test server's certificate as a private CA is trusted: SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(folder / "cert.pem"))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_failed_run_sends_one_email_with_text_and_html(
    app: Moonshift, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    with smtp_server(tmp_path, security) as box:
        trusted(monkeypatch, tmp_path)
        app.ctx.environ = {"SMTP_PASSWORD": PASSWORD}
        app.migrations.apply_document(mail_spec(box.port, security), actor="user:test")
        run_id = fail_a_run(app)
        sender = dispatcher(app, {"SMTP_PASSWORD": PASSWORD})
        while sender.pass_once():
            pass
        [message] = box.messages
        assert box.logins == [USER]
        assert message["Subject"] == f"[moonshift] job: run {run_id} failed: exit code 3"
        assert message["To"] == "ops@example.com, dba@example.com"
        assert message["Message-ID"].startswith("<msg_") and message["Message-ID"].endswith(
            "_mail@moonshift>"
        )
        text = message.get_body(preferencelist=("plain",))
        page = message.get_body(preferencelist=("html",))
        assert text is not None and "severity: critical" in text.get_content()
        assert page is not None and "<b>job: run" in page.get_content()
        [event] = [e for e in app.notifications.log("job") if e.kind == "failed"]
        assert [(d.channel, d.status) for d in event.deliveries] == [("mail", "delivered")]


def test_a_wrong_smtp_password_is_given_up_and_never_shown(
    app: Moonshift, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-password-81f2"
    with smtp_server(tmp_path, "starttls") as box:
        trusted(monkeypatch, tmp_path)
        app.ctx.environ = {"SMTP_PASSWORD": wrong}
        app.migrations.apply_document(mail_spec(box.port, "starttls"), actor="user:test")
        fail_a_run(app)
        dispatcher(app, {"SMTP_PASSWORD": wrong}).pass_once()
        assert box.messages == []
        [event] = [e for e in app.notifications.log("job") if e.kind == "failed"]
        [delivery] = event.deliveries
        assert delivery.status == "failed"
        assert delivery.last_error == "the SMTP server refused the login (535)"
        tested = app.notifications.test("mail", actor="user:test")
        assert not tested.ok and wrong not in json.dumps(tested.model_dump(mode="json"))


def test_a_burst_of_50_reaches_slack_complete_and_in_order(
    app: Moonshift, hook: Receiver, clock: FakeClock
) -> None:
    app.migrations.apply_document(
        f"""
channels: [{{id: chat, type: slack, url: "{hook.url}/slack"}}]
migrations:
  - id: job
    kind: steps
    steps: {{count: 1}}
    notify: [{{channel: chat, on: [all]}}]
""",
        actor="user:test",
    )
    # Slack's limit: about one a second; beyond it, 429 and Retry-After
    hook.scripted["/slack"] = [
        (429, {"retry-after": "1"}) if i % 7 == 3 else (200, {}) for i in range(80)
    ]
    for n in range(50):
        app.store.emit(
            Notice(kind="window_ending", at=clock.now(), migration_id="job", reason=f"burst {n}")
        )
    sender = dispatcher(app)
    for _ in range(200):
        sender.pass_once()
        if len(hook.on("/slack")) == 50:
            break
        clock.advance(1)
    texts = [r.json()["text"] for r in hook.on("/slack")]
    assert texts == [f":warning: job: window ending: burst {n}" for n in range(50)]
    keys = [r.json()["metadata"]["event_payload"]["key"] for r in hook.on("/slack")]
    assert len(set(keys)) == 50


def test_notify_test_verifies_a_channel_from_the_cli(tmp_path: Path, hook: Receiver) -> None:
    (tmp_path / "c.yaml").write_text(
        f"""
channels:
  - {{id: hook, type: webhook, url: "{hook.url}/hook", secret: "${{HOOK_SECRET}}"}}
  - {{id: gone, type: webhook, url: "http://127.0.0.1:9/nothing", secret: "${{HOOK_SECRET}}"}}
"""
    )
    assert moonshift(tmp_path, "apply", "c.yaml", env=ENV).returncode == 0
    ok = moonshift(tmp_path, "notify", "test", "hook", "--json", env=ENV)
    assert ok.returncode == 0, ok.stderr
    [request] = hook.on("/hook")
    assert request.json()["type"] == "test"
    assert request.headers["webhook-id"] == json.loads(ok.stdout)["key"]
    down = moonshift(tmp_path, "notify", "test", "gone", env=ENV)
    assert down.returncode == 1
    assert "not delivered: could not reach the receiver: ConnectError" in down.stderr


def test_setup_slack_and_setup_email_from_flags_and_prompts(tmp_path: Path) -> None:
    slack = moonshift(tmp_path, "setup-slack", "--id", "ops-slack", "--url", "${SLACK_WEBHOOK_URL}")
    assert slack.returncode == 0, slack.stderr
    assert "url: ${SLACK_WEBHOOK_URL}" in slack.stdout
    literal = moonshift(
        tmp_path,
        "setup-slack",
        "--id",
        "bad",
        "--url",
        "https://hooks.slack.com/services/T1/B2/tok3n",
    )
    assert literal.returncode == 2
    assert "--url: holds the Slack webhook's token in plain text" in literal.stderr
    assert "tok3n" not in literal.stderr
    mail = moonshift(
        tmp_path,
        "setup-email",
        "--id",
        "ops-mail",
        "--host",
        "smtp.example.com",
        "--username",
        "alerts",
        "--password-env",
        "SMTP_PASSWORD",
        "--from",
        "moonshift@example.com",
        "--to",
        "ops@example.com",
        "--json",
    )
    assert mail.returncode == 0, mail.stderr
    channels = json.loads(moonshift(tmp_path, "channels", "--json").stdout)
    assert [(c["id"], c["type"]) for c in channels] == [
        ("ops-mail", "email"),
        ("ops-slack", "slack"),
    ]
    assert channels[0]["settings"]["password"] == "${SMTP_PASSWORD}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    prompted = subprocess.run(
        [sys.executable, "-m", "moonshift.cli", "setup-slack"],
        cwd=tmp_path,
        env=env,
        input="chat\n${CHAT_URL}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert prompted.returncode == 0, prompted.stderr
    assert "channel chat created" in prompted.stdout
